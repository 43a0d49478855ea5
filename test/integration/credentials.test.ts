// Credentials the ecosystem keeps (Docker's config.json, a credential helper, containers'
// auth.json) against a real htpasswd-protected docker-registry: a bundle and a buildah image
// are pushed with them, wrong ones are one clear message, and the password is never echoed.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { htpasswdFile, startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { RegistryClient } from "../../components/oci/registry";
import { ArtifactInputs, createArtifact } from "../../components/core/lifecycle";
import { BUNDLE_KIND } from "../../components/kinds/fileBundle/fields";
import { bundleKeyMaterial } from "../../components/kinds/fileBundle/plan";
import { plan as baseImagePlan } from "../../components/kinds/baseImage/plan";
import { computeKey, inputSummary, shortKey } from "../../components/core/keys";
import { StatCache } from "../../components/core/fileset";
import { buildModuleOf } from "../../components/core/providerImpl";

const USER = "ci";
const PASSWORD = "pw-" + Math.random().toString(36).slice(2);
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Where the client looks: only what a case sets, nothing of the machine's own. */
const ENV_KEYS = ["HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "PATH", "CONTAINERS_STORAGE_CONF", "WARMRUN_JOURNAL"];

describe("registry credentials from config.json, a credential helper and auth.json (real htpasswd registry)", function () {
    this.timeout(180_000);
    let registry: TestRegistry;
    let saved: Record<string, string | undefined>;
    let home: string;
    let bin: string;
    let helperLog: string;

    before(async () => {
        registry = await startRegistry({ htpasswd: htpasswdFile(USER, PASSWORD) });
        saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
        bin = tempDir("warmrun-bin-");
        helperLog = path.join(bin, "asked.log");
        // A credential helper as the protocol has it: the server on stdin, JSON on stdout.
        writeTree(bin, {
            "docker-credential-warmrun-test": {
                content: [
                    "#!/bin/sh",
                    '[ "$1" = get ] || exit 1',
                    "read -r server",
                    `echo "$server" >> ${helperLog}`,
                    `if [ "$server" = "${registry.host}" ]; then`,
                    `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
                    "else echo 'credentials not found in native keychain'; exit 1; fi",
                    "",
                ].join("\n"),
                mode: 0o755,
            },
        });
        process.env.WARMRUN_JOURNAL = path.join(tempDir(), "journal.jsonl");
    });
    beforeEach(() => {
        home = tempDir("warmrun-home-");
        for (const k of ["DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"]) delete process.env[k];
        process.env.HOME = home;
        process.env.PATH = `${bin}:${saved.PATH}`;
    });
    after(async () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        await registry?.stop();
        removeTempDirs();
    });

    async function bundleInputs(name: string): Promise<ArtifactInputs> {
        const root = tempDir();
        writeTree(root, { "a.txt": `${name}\n` });
        const material = await bundleKeyMaterial(name, { root }, {}, new StatCache());
        const key = computeKey(material);
        return { name, kind: BUNDLE_KIND, key, registry: { host: registry.host, insecure: true }, repository: `creds/${name}`, tag: shortKey(key), aliasTags: [], inputs: inputSummary(material), build: { root, params: {}, upstream: {} } };
    }

    function dockerConfig(json: unknown): void {
        fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
        fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify(json));
    }

    async function pushAndResolve(name: string): Promise<void> {
        const inputs = await bundleInputs(name);
        const outs = await createArtifact(inputs, { kinds: buildModuleOf });
        assert.equal(outs.cacheHit, false);
        assert.equal(await new RegistryClient({ host: registry.host, insecure: true, username: USER, password: PASSWORD }).resolveTag(inputs.repository, inputs.tag), outs.digest);
        assert.ok(!JSON.stringify(outs).includes(PASSWORD) && !JSON.stringify(outs).includes(b64(`${USER}:${PASSWORD}`)), "found credentials never enter the outputs");
    }

    it("the registry really asks: without credentials the error says how to log in", async () => {
        const client = new RegistryClient({ host: registry.host, insecure: true });
        await assert.rejects(client.resolveTag("creds/none", "x"), (e: Error) => {
            assert.equal(e.name, "WarmrunError");
            assert.match(e.message, /refused HEAD \/v2\/creds\/none\/manifests\/x \(401\), and no credentials for it were found: set warmrun:registryUsername .* or log in with `docker login 127\.0\.0\.1:\d+`/);
            return true;
        });
    });

    it("~/.docker/config.json auths (base64 user:password)", async () => {
        dockerConfig({ auths: { [`http://${registry.host}`]: { auth: b64(`${USER}:${PASSWORD}`) } } });
        await pushAndResolve("from-config");
    });

    it("a credential helper named by credHelpers, run with the server on stdin", async () => {
        fs.rmSync(helperLog, { force: true });
        dockerConfig({ auths: {}, credHelpers: { [registry.host]: "warmrun-test" } });
        await pushAndResolve("from-helper");
        assert.deepEqual(fs.readFileSync(helperLog, "utf8").trim().split("\n"), [registry.host], "asked once, for this registry");
    });

    it("containers' auth.json from $REGISTRY_AUTH_FILE when Docker's config has nothing", async () => {
        dockerConfig({ auths: { "other.example.com": { auth: b64("x:y") } } });
        const file = path.join(home, "auth.json");
        fs.writeFileSync(file, JSON.stringify({ auths: { [registry.host]: { auth: b64(`${USER}:${PASSWORD}`) } } }));
        process.env.REGISTRY_AUTH_FILE = file;
        await pushAndResolve("from-auth-json");
    });

    it("$XDG_RUNTIME_DIR/containers/auth.json", async () => {
        const runtime = tempDir("warmrun-runtime-");
        writeTree(runtime, { "containers/auth.json": JSON.stringify({ auths: { [registry.host]: { auth: b64(`${USER}:${PASSWORD}`) } } }) });
        process.env.XDG_RUNTIME_DIR = runtime;
        await pushAndResolve("from-runtime-auth");
    });

    it("wrong credentials: one clear message naming where they came from, without the password", async () => {
        const wrong = "not-" + PASSWORD;
        dockerConfig({ auths: { [registry.host]: { auth: b64(`${USER}:${wrong}`) } } });
        const inputs = await bundleInputs("wrong");
        await assert.rejects(createArtifact(inputs, { kinds: buildModuleOf }), (e: Error) => {
            assert.equal(e.name, "WarmrunError");
            assert.match(e.message, /registry 127\.0\.0\.1:\d+ refused HEAD .* \(401\): the credentials from ~\/\.docker\/config\.json \(auths\["127\.0\.0\.1:\d+"\]\) were rejected: log in again/);
            assert.ok(!e.message.includes(wrong) && !e.message.includes(b64(`${USER}:${wrong}`)), "the password is not echoed");
            return true;
        });
    });

    it("buildah builds and pushes an image with the helper's credentials (in a private auth file)", async () => {
        execFileSync("sh", ["-c", "command -v buildah"], { stdio: "ignore" });
        // A storage of this test's own, so the machine's buildah storage is left alone.
        const storage = tempDir("warmrun-storage-");
        fs.writeFileSync(path.join(storage, "storage.conf"), `[storage]\ndriver = "vfs"\ngraphroot = "${storage}/graph"\nrunroot = "${storage}/run"\n`);
        process.env.CONTAINERS_STORAGE_CONF = path.join(storage, "storage.conf");
        dockerConfig({ credHelpers: { [registry.host]: "warmrun-test" } });
        const dir = tempDir();
        writeTree(dir, { Containerfile: "FROM scratch\nCOPY hello.txt /hello.txt\n", "hello.txt": "hello\n" });
        const plan = await baseImagePlan({ containerfile: path.join(dir, "Containerfile") }, { name: "img", projectRoot: dir, upstream: {}, statCache: new StatCache(), resolveImage: async () => assert.fail("FROM scratch asks no registry") });
        const key = computeKey(plan.material);
        const inputs: ArtifactInputs = { name: "img", kind: "BaseImage", key, registry: { host: registry.host, insecure: true }, repository: "creds/img", tag: shortKey(key), aliasTags: [], inputs: inputSummary(plan.material), build: { ...plan.build, builder: "buildah" } };
        const logs: string[] = [];
        const outs = await createArtifact(inputs, { kinds: buildModuleOf, log: (m) => logs.push(m) });
        assert.equal(outs.cacheHit, false);
        const oracle = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--creds", `${USER}:${PASSWORD}`, "--raw", `docker://${registry.host}/creds/img:${inputs.tag}`], { encoding: "utf8" });
        assert.match(oracle, /"layers"/, "skopeo reads the pushed image back with the same credentials");
        assert.ok(!logs.join("\n").includes(PASSWORD), "the password is in no log line");
    });
});
