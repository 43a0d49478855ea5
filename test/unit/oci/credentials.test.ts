// Which credentials the ecosystem's files give for a registry host, and in which order they are asked.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { lookupCredentials, serverHost, decodeAuthEntry, HelperRunner, authFilePaths } from "../../../components/oci/credentials";
import { tempDir, removeTempDirs } from "../../support/tmp";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function write(file: string, json: unknown): string {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof json === "string" ? json : JSON.stringify(json));
    return file;
}

describe("registry credentials from the ecosystem's files", () => {
    let home: string;
    let asked: string[];
    const helpers: Record<string, Record<string, { Username: string; Secret: string }>> = {};
    const runHelper: HelperRunner = async (helper, server) => {
        asked.push(`${helper} ${server}`);
        return helpers[helper]?.[server];
    };

    beforeEach(() => {
        home = tempDir("warmrun-home-");
        asked = [];
        for (const k of Object.keys(helpers)) delete helpers[k];
    });
    after(removeTempDirs);

    const look = (host: string, env: NodeJS.ProcessEnv = {}) => lookupCredentials(host, { env: { HOME: home, ...env }, home, runHelper });

    it("normalizes the server keys login commands write", () => {
        assert.equal(serverHost("https://registry.example.com/v1/"), "registry.example.com");
        assert.equal(serverHost("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert.equal(serverHost("Registry.Example.com:443"), "registry.example.com:443");
        assert.equal(serverHost("https://index.docker.io/v1/"), "docker.io");
        assert.equal(serverHost("registry-1.docker.io"), "docker.io");
    });

    it("decodes auth, username/password and identitytoken entries", () => {
        assert.deepEqual(decodeAuthEntry({ auth: b64("ci:pa:ss") }, "f"), { username: "ci", password: "pa:ss", source: "f" });
        assert.deepEqual(decodeAuthEntry({ username: "u", password: "p" }, "f"), { username: "u", password: "p", source: "f" });
        assert.deepEqual(decodeAuthEntry({ identitytoken: "refresh-1" }, "f"), { identityToken: "refresh-1", source: "f" });
        assert.equal(decodeAuthEntry({}, "f"), undefined);
        assert.throws(() => decodeAuthEntry({ auth: b64("no-colon") }, "~/.docker/config.json"), /not base64 of user:password/);
    });

    it("reads ~/.docker/config.json auths, matching https:// and path forms of the host", async () => {
        write(path.join(home, ".docker/config.json"), { auths: { "https://registry.example.com/v1/": { auth: b64("ci:s3cret") } } });
        const c = await look("registry.example.com");
        assert.deepEqual(c, { username: "ci", password: "s3cret", source: '~/.docker/config.json (auths["https://registry.example.com/v1/"])' });
        assert.equal(await look("other.example.com"), undefined);
    });

    it("DOCKER_CONFIG replaces ~/.docker", async () => {
        write(path.join(home, ".docker/config.json"), { auths: { "registry.example.com": { auth: b64("home:1") } } });
        const dir = path.join(home, "ci-docker");
        write(path.join(dir, "config.json"), { auths: { "registry.example.com": { auth: b64("ci:2") } } });
        assert.equal((await look("registry.example.com", { DOCKER_CONFIG: dir }))?.username, "ci");
        fs.rmSync(path.join(dir, "config.json"));
        // Docker reads only $DOCKER_CONFIG when set; the auth files come next.
        assert.equal(await look("registry.example.com", { DOCKER_CONFIG: dir }), undefined);
    });

    it("credHelpers[host] comes before credsStore, which comes before auths", async () => {
        write(path.join(home, ".docker/config.json"), {
            auths: { "registry.example.com": { auth: b64("file:1") }, "store.example.com": {}, "plain.example.com": { auth: b64("file:3") } },
            credsStore: "desktop",
            credHelpers: { "registry.example.com": "ecr-login" },
        });
        helpers["ecr-login"] = { "registry.example.com": { Username: "AWS", Secret: "from-helper" } };
        helpers.desktop = { "store.example.com": { Username: "st", Secret: "from-store" } };
        assert.deepEqual(await look("registry.example.com"), { username: "AWS", password: "from-helper", source: "~/.docker/config.json (credHelpers: docker-credential-ecr-login)" });
        assert.deepEqual(await look("store.example.com"), { username: "st", password: "from-store", source: "~/.docker/config.json (credsStore: docker-credential-desktop)" });
        // The store has nothing for this host: the file's own entry answers.
        assert.equal((await look("plain.example.com"))?.password, "3");
        assert.deepEqual(asked, ["ecr-login registry.example.com", "desktop store.example.com", "desktop plain.example.com"]);
    });

    it("a helper's <token> user name means an identity token", async () => {
        write(path.join(home, ".docker/config.json"), { credHelpers: { "registry.example.com": "acr" } });
        helpers.acr = { "registry.example.com": { Username: "<token>", Secret: "refresh-xyz" } };
        assert.deepEqual(await look("registry.example.com"), { identityToken: "refresh-xyz", source: "~/.docker/config.json (credHelpers: docker-credential-acr)" });
    });

    it("Docker Hub is asked as https://index.docker.io/v1/", async () => {
        write(path.join(home, ".docker/config.json"), { credsStore: "pass" });
        helpers.pass = { "https://index.docker.io/v1/": { Username: "me", Secret: "hub" } };
        assert.equal((await look("registry-1.docker.io"))?.password, "hub");
    });

    it("then containers' auth.json: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json", async () => {
        const runtime = path.join(home, "run");
        const authFile = path.join(home, "custom-auth.json");
        assert.deepEqual(authFilePaths({ REGISTRY_AUTH_FILE: authFile, XDG_RUNTIME_DIR: runtime }, home), [
            authFile,
            path.join(runtime, "containers/auth.json"),
            path.join(home, ".config/containers/auth.json"),
        ]);
        write(path.join(home, ".config/containers/auth.json"), { auths: { "registry.example.com": { auth: b64("cfg:3") } } });
        assert.equal((await look("registry.example.com", { XDG_RUNTIME_DIR: runtime }))?.username, "cfg");
        write(path.join(runtime, "containers/auth.json"), { auths: { "registry.example.com": { auth: b64("runtime:2") } } });
        assert.equal((await look("registry.example.com", { XDG_RUNTIME_DIR: runtime }))?.username, "runtime");
        write(authFile, { auths: { "registry.example.com": { auth: b64("custom:1") } } });
        const c = await look("registry.example.com", { XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: authFile });
        assert.equal(c?.username, "custom");
        assert.equal(c?.source, '~/custom-auth.json (auths["registry.example.com"])');
        // Docker's config, when it has the host, comes first.
        write(path.join(home, ".docker/config.json"), { auths: { "registry.example.com": { auth: b64("docker:0") } } });
        assert.equal((await look("registry.example.com", { XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: authFile }))?.username, "docker");
    });

    it("a file that is not JSON is one clear error naming it", async () => {
        write(path.join(home, ".docker/config.json"), "{ not json");
        await assert.rejects(look("registry.example.com"), /registry credentials file ~\/\.docker\/config\.json is not valid JSON .*: fix it, or log in again/);
    });

    it("no files at all: no credentials, no helper asked", async () => {
        assert.equal(await look("registry.example.com"), undefined);
        assert.deepEqual(asked, []);
    });
});
