// The action's scripts: the cache keys (keys.js) and the comment kept up to date (run.ts), on a
// GitHub API stand-in that records the requests (GitHub itself is out of reach of the tests).
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { upsertComment } from "../../../scripts/action/run";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const { cacheKeys, findLock } = require(path.join(ROOT, "scripts/action/keys.js"));

function api(comments: { id: number; body: string }[][]) {
    const calls: { method: string; url: string; body?: any }[] = [];
    const f = async (url: any, init: any) => {
        calls.push({ method: init.method, url: String(url), body: init.body ? JSON.parse(init.body) : undefined });
        const page = Number(/[?&]page=(\d+)/.exec(String(url))?.[1] ?? 0);
        const json = init.method === "GET" ? comments[page - 1] ?? [] : { id: 99 };
        return new Response(JSON.stringify(json), { status: init.method === "POST" ? 201 : 200 });
    };
    return { calls, fetch: f as typeof fetch };
}

describe("action scripts", () => {
    it("keys.js: the engine version the lock pins and the lock's hash", () => {
        const keys = cacheKeys(ROOT, { WARMRUN_CACHE: "/cache", npm_config_cache: "/npm" });
        const lock = fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8");
        assert.equal(keys["engine-version"], JSON.parse(lock).packages["node_modules/@pulumi/pulumi"].version);
        assert.equal(keys["engine-dir"], `/cache/engine/v${keys["engine-version"]}`);
        assert.equal(keys["lock-hash"], crypto.createHash("sha256").update(lock).digest("hex"));
        assert.equal(keys["npm-cache"], "/npm");
        assert.equal(keys.checkout, "true");
        const stamp = path.join(ROOT, "node_modules", ".warmrun-lock.sha256");
        const current = fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").trim() === keys["lock-hash"];
        assert.equal(keys["deps-current"], String(current));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keys-"));
        try {
            assert.equal(findLock(dir), undefined);
            assert.throws(() => cacheKeys(dir, {}), /no package-lock.json at or above/);
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
    });

    it("posts one comment when none carries the marker, on page 2 too", async () => {
        const a = api([Array.from({ length: 100 }, (_, i) => ({ id: i + 1, body: "other" })), [{ id: 500, body: "other" }]]);
        const r = await upsertComment({ api: "http://api.test/", repository: "acme/app", pr: 4, token: "t", marker: "<!-- m -->", body: "<!-- m -->\nreport", fetch: a.fetch });
        assert.deepEqual(r, { action: "created", id: 99 });
        assert.deepEqual(
            a.calls.map((c) => `${c.method} ${c.url}`),
            ["GET http://api.test/repos/acme/app/issues/4/comments?per_page=100&page=1", "GET http://api.test/repos/acme/app/issues/4/comments?per_page=100&page=2", "POST http://api.test/repos/acme/app/issues/4/comments"],
        );
        assert.deepEqual(a.calls[2].body, { body: "<!-- m -->\nreport" });
    });

    it("updates the marked comment instead of posting another", async () => {
        const a = api([[{ id: 5, body: "hi" }, { id: 6, body: "<!-- m -->\nold report" }]]);
        const r = await upsertComment({ api: "http://api.test", repository: "acme/app", pr: 4, token: "t", marker: "<!-- m -->", body: "<!-- m -->\nnew", fetch: a.fetch });
        assert.deepEqual(r, { action: "updated", id: 6 });
        assert.deepEqual(a.calls.map((c) => c.method), ["GET", "PATCH"]);
        assert.equal(a.calls[1].url, "http://api.test/repos/acme/app/issues/comments/6");
    });
});
