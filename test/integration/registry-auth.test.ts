// The registry client's bearer-token flow against a local HTTP server that behaves like a
// token-authenticated registry (401 challenge, token endpoint, retry).
import { strict as assert } from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { RegistryClient, parseChallenge } from "../../components/oci/registry";

describe("registry bearer-token auth", () => {
    let server: http.Server;
    let host: string;
    const seen: { tokenRequests: string[]; authHeaders: string[] } = { tokenRequests: [], authHeaders: [] };

    before(async () => {
        server = http.createServer((req, res) => {
            const url = new URL(req.url ?? "/", "http://x");
            if (url.pathname === "/token") {
                seen.tokenRequests.push(`${url.searchParams.get("service")} ${url.searchParams.get("scope")} ${req.headers.authorization ?? "-"}`);
                const ok = req.headers.authorization === "Basic " + Buffer.from("ci:s3cret").toString("base64");
                res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
                return res.end(ok ? JSON.stringify({ token: "tok-123" }) : "{}");
            }
            seen.authHeaders.push(req.headers.authorization ?? "-");
            if (req.headers.authorization !== "Bearer tok-123") {
                res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="test-registry",scope="repository:team/app:pull"` });
                return res.end();
            }
            res.writeHead(200, { "docker-content-digest": "sha256:" + "e".repeat(64) });
            res.end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it("parses a Bearer challenge", () => {
        const c = parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"');
        assert.deepEqual(c, { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" } });
    });

    it("answers a challenge with a token fetched with the credentials, and reuses it", async () => {
        const client = new RegistryClient({ host, insecure: true, username: "ci", password: "s3cret" });
        assert.equal(await client.resolveTag("team/app", "v1"), "sha256:" + "e".repeat(64));
        assert.equal(await client.resolveTag("team/app", "v2"), "sha256:" + "e".repeat(64));
        assert.equal(seen.tokenRequests.length, 1, "token fetched once per scope");
        assert.match(seen.tokenRequests[0], /^test-registry repository:team\/app:pull Basic /);
        assert.equal(seen.authHeaders.filter((h) => h === "Bearer tok-123").length, 2);
    });

    it("wrong credentials give one clear error naming the settings", async () => {
        const client = new RegistryClient({ host, insecure: true, username: "ci", password: "wrong" });
        await assert.rejects(client.resolveTag("team/app", "v1"), (e: Error) => {
            assert.match(e.message, /refused a token \(401\) for repository:team\/app:pull: the credentials from the stack config .* were rejected: check warmrun:registryUsername and warmrun:registryPassword/);
            assert.ok(!e.message.includes("wrong"), "the password is not echoed");
            return true;
        });
    });
});
