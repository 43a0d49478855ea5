// The registry client's diagnoses against real servers: a real htpasswd registry (credentials
// missing, refused from the stack config and from Docker's config.json, accepted), servers that
// are not registries (HTML, JSON that is no manifest, 404 everywhere), a denial (403), TLS to a
// plain-HTTP registry, a port nothing listens on, a port HTTP clients refuse. One message each,
// naming the fix, never the password.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { RegistryClient } from "../../components/oci/registry";
import { WarmrunError } from "../../components/core/errors";
import { freePort, htpasswdFile, startRegistry, TestRegistry } from "../support/registry";
import { removeTempDirs, tempDir } from "../support/tmp";
import { LocalServers } from "../support/servers";

const ENV_KEYS = ["HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"];

describe("registry client diagnoses (real registry, local servers)", function () {
    this.timeout(60_000);
    let auth: TestRegistry;
    let plain: TestRegistry;
    let home: string;
    let saved: Record<string, string | undefined>;
    const servers = new LocalServers();
    const rejects = (p: Promise<unknown>, pattern: RegExp, absent?: string) =>
        assert.rejects(p, (e: unknown) => {
            assert.ok(e instanceof WarmrunError, `a WarmrunError, not ${e}`);
            assert.match(e.message, pattern);
            if (absent) assert.ok(!e.message.includes(absent), `${absent} is not in the message`);
            return true;
        });

    before(async () => {
        saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
        for (const k of ENV_KEYS) delete process.env[k];
        home = tempDir("warmrun-home-");
        process.env.HOME = home;
        auth = await startRegistry({ htpasswd: htpasswdFile("ci", "s3cret") });
        plain = await startRegistry();
    });
    after(async () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete (process.env as any)[k];
            else process.env[k] = v;
        }
        servers.close();
        await auth?.stop();
        await plain?.stop();
        removeTempDirs();
    });

    it("htpasswd registry: none sent says to set them; refused ones name their source, never the password; good ones pass", async () => {
        await rejects(new RegistryClient({ host: auth.host, insecure: true }).resolveTag("e/x", "t"), /refused HEAD \/v2\/e\/x\/manifests\/t \(401\), and no credentials for it were found: set warmrun:registryUsername and the secret warmrun:registryPassword/);
        await rejects(
            new RegistryClient({ host: auth.host, insecure: true, username: "ci", password: "wrong-one" }).resolveTag("e/x", "t"),
            /^registry 127\.0\.0\.1:\d+ refused HEAD .* \(401\): the credentials from the stack config .* were rejected: check warmrun:registryUsername and warmrun:registryPassword/,
            "wrong-one",
        );
        // Credentials from Docker's config.json were sent too: "rejected", naming the file and entry.
        fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
        fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ auths: { [auth.host]: { auth: Buffer.from("ci:stale-pw").toString("base64") } } }));
        await rejects(new RegistryClient({ host: auth.host, insecure: true }).resolveTag("e/x", "t"), /the credentials from ~\/\.docker\/config\.json \(auths\["127\.0\.0\.1:\d+"\]\) were rejected: log in again/, "stale-pw");
        fs.rmSync(path.join(home, ".docker"), { recursive: true });
        assert.equal(await new RegistryClient({ host: auth.host, insecure: true, username: "ci", password: "s3cret" }).resolveTag("e/x", "t"), undefined);
    });

    it("servers that are not registries: HTML, JSON that is no manifest, 404 everywhere, garbage tags", async () => {
        const html = await servers.answering(200, "text/html; charset=utf-8", "<!doctype html><html><body>Sign in</body></html>");
        const json = await servers.answering(200, "application/json", '{"hello":"world"}');
        const missing = await servers.answering(404, "text/plain", "not found");
        const garbage = await servers.listen((_q, r) => {
            r.writeHead(200, { "content-type": "application/json" });
            r.end(_q.url === "/v2/" ? "{}" : "]]not json");
        });
        await rejects(new RegistryClient({ host: html, insecure: true }).resolveTag("e/x", "t"), /does not answer as an OCI registry: GET manifest e\/x:t gave 200 text\/html \("<!doctype html>.*"\): check that warmrun:registry names an OCI distribution registry/);
        await rejects(new RegistryClient({ host: json, insecure: true }).getManifest("e/x", "t"), /does not answer as an OCI registry: GET manifest e\/x:t gave 200 application\/json \("\{"hello":"world"\}"\)/);
        await rejects(new RegistryClient({ host: missing, insecure: true }).resolveTag("e/x", "t"), /does not answer as an OCI registry: GET \/v2\/ gave 404 text\/plain \("not found"\)/);
        await rejects(new RegistryClient({ host: garbage, insecure: true }).listTags("e/x"), /does not answer as an OCI registry: listing tags of e\/x gave 200 application\/json \("\]\]not json"\)/);
    });

    it("a denial names the operation and the user; the registry's own error codes are quoted", async () => {
        const denying = await servers.listen((q, r) => {
            if (q.url === "/v2/") return r.end("{}");
            r.writeHead(403, { "content-type": "application/json" });
            r.end(JSON.stringify({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] }));
        });
        await rejects(
            new RegistryClient({ host: denying, insecure: true, username: "ci", password: "pw" }).putManifest("e/x", "t", "application/vnd.oci.image.manifest.v1+json", Buffer.from("{}")),
            /denied PUT manifest e\/x:t \(403, DENIED: requested access to the resource is denied\) to user "ci" \(the stack config .*\): grant it pull and push/,
        );
    });

    it("TLS to a plain-HTTP registry says to set registryInsecure; nothing listening, to start it; a blocked port, to use another", async () => {
        await rejects(new RegistryClient({ host: plain.host, insecure: false }).resolveTag("e/x", "t"), /the TLS connection failed \(.*\): if it speaks plain HTTP, set warmrun:registryInsecure to true/);
        const port = await freePort();
        await rejects(new RegistryClient({ host: `127.0.0.1:${port}`, insecure: true }).resolveTag("e/x", "t"), new RegExp(`is unreachable \\(ECONNREFUSED\\): start the local registry on port ${port}`));
        await rejects(new RegistryClient({ host: "127.0.0.1:6000", insecure: true }).resolveTag("e/x", "t"), /is unreachable \(bad port: .*\): run the registry on another port/);
    });
});
