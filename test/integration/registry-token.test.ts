// Bearer tokens that expire during a push, and identity tokens (OAuth2 refresh tokens), against a
// local HTTP server that behaves like a token-authenticated registry.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { createHash } from "crypto";
import { AddressInfo } from "net";
import { RegistryClient } from "../../components/oci/registry";
import { MEDIA } from "../../components/oci/manifest";
import { tempDir, removeTempDirs } from "../support/tmp";

describe("registry tokens: renewed when they expire mid-push; identity tokens", () => {
    let server: http.Server;
    let host: string;
    /** Token -> requests it may still serve (each token expires after two). */
    const tokens = new Map<string, number>();
    const log = { issued: 0, grants: [] as string[], uploaded: "" };
    let home: string;
    const saved = { HOME: process.env.HOME, DOCKER_CONFIG: process.env.DOCKER_CONFIG };

    before(async () => {
        server = http.createServer(async (req, res) => {
            const chunks: Buffer[] = [];
            for await (const c of req) chunks.push(c as Buffer);
            const body = Buffer.concat(chunks);
            const url = new URL(req.url ?? "/", "http://x");
            if (url.pathname === "/token") {
                let ok = false;
                if (req.method === "POST") {
                    const form = new URLSearchParams(body.toString("utf8"));
                    log.grants.push(`${form.get("grant_type")} ${form.get("service")} ${form.get("scope")}`);
                    ok = form.get("grant_type") === "refresh_token" && form.get("refresh_token") === "refresh-abc";
                } else {
                    log.grants.push(`basic ${url.searchParams.get("scope")}`);
                    ok = req.headers.authorization === "Basic " + Buffer.from("ci:s3cret").toString("base64");
                }
                if (!ok) {
                    res.writeHead(401);
                    return res.end();
                }
                const token = `tok-${++log.issued}`;
                tokens.set(token, 2);
                res.writeHead(200, { "content-type": "application/json" });
                return res.end(JSON.stringify(req.method === "POST" ? { access_token: token } : { token }));
            }
            const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
            const left = tokens.get(bearer) ?? 0;
            if (left <= 0) {
                res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="fake",scope="repository:team/app:pull,push"` });
                return res.end();
            }
            tokens.set(bearer, left - 1);
            if (req.method === "HEAD" && url.pathname.includes("/blobs/")) {
                res.writeHead(404);
                return res.end();
            }
            if (req.method === "POST" && url.pathname.endsWith("/blobs/uploads/")) {
                res.writeHead(202, { location: `/v2/team/app/blobs/uploads/1` });
                return res.end();
            }
            if (req.method === "PUT" && url.pathname.includes("/blobs/uploads/")) {
                const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
                log.uploaded = digest === url.searchParams.get("digest") ? digest : `mismatch ${body.length}`;
                res.writeHead(201);
                return res.end();
            }
            if (req.method === "PUT" && url.pathname.includes("/manifests/")) {
                res.writeHead(201, { "docker-content-digest": `sha256:${createHash("sha256").update(body).digest("hex")}` });
                return res.end();
            }
            res.writeHead(200, { "docker-content-digest": "sha256:" + "e".repeat(64) });
            res.end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
        home = tempDir("warmrun-home-");
        process.env.HOME = home;
        delete process.env.DOCKER_CONFIG;
    });
    after(async () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete (process.env as any)[k];
            else process.env[k] = v;
        }
        removeTempDirs();
        await new Promise<void>((r) => server.close(() => r()));
    });

    it("a push whose token expires between its requests renews it and completes", async () => {
        const file = path.join(tempDir(), "blob");
        const data = Buffer.alloc(3 << 20, 7);
        fs.writeFileSync(file, data);
        const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
        const client = new RegistryClient({ host, insecure: true, username: "ci", password: "s3cret" });
        const before = log.issued;
        assert.equal(await client.pushBlob("team/app", { digest, size: data.length, file }), true);
        const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, layers: [{ digest, size: data.length }] }));
        await client.putManifest("team/app", "v1", MEDIA.ociManifest, manifest);
        assert.equal(log.uploaded, digest, "the whole blob arrived, streamed again after the renewal");
        assert.ok(log.issued - before >= 2, `the token was renewed during the push (${log.issued - before} tokens)`);
    });

    it("an identity token from ~/.docker/config.json is exchanged with the OAuth2 refresh-token grant", async () => {
        fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
        fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ auths: { [host]: { identitytoken: "refresh-abc" } } }));
        log.grants.length = 0;
        const client = new RegistryClient({ host, insecure: true });
        assert.equal(await client.resolveTag("team/app", "v1"), "sha256:" + "e".repeat(64));
        assert.deepEqual(log.grants, ["refresh_token fake repository:team/app:pull,push"]);
    });
});
