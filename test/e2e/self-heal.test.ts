// End-to-end, real engine, real htpasswd-protected registry: the stack's credentials come from a
// credential helper on PATH (no stack config), a tag deleted from the registry is rebuilt by a
// plain `pulumi up` (no --refresh), the next up changes nothing, and the password is in no
// state file, output or log.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile } from "child_process";
import { EngineSession, engineDir, PROJECT_ROOT } from "../support/engine";
import { htpasswdFile, startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { builtNames, journalTail } from "../support/journal";
import { writeBundleChainStack } from "../support/stacks";
import { RegistryClient } from "../../components/oci/registry";
import { reportRows } from "../../components/report/cacheReport";

const USER = "ci";
const PASSWORD = "heal-" + Math.random().toString(36).slice(2);

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("self-healing up with credentials from a credential helper (real engine, htpasswd registry)", function () {
    this.timeout(300_000);
    let registry: TestRegistry;
    let session: EngineSession;
    let work: string;
    let journal: string;
    let client: RegistryClient;
    let helperLog: string;
    const printed: string[] = [];

    const run = async (args: string[], opts: { withConfig?: boolean } = {}) => {
        const r = await session.run(args, opts);
        printed.push(r.stdout, r.stderr);
        return r;
    };
    const newEntries = journalTail(() => journal);

    before(async () => {
        const { dir: engineBin } = engineDir();
        registry = await startRegistry({ htpasswd: htpasswdFile(USER, PASSWORD) });
        client = new RegistryClient({ host: registry.host, insecure: true, username: USER, password: PASSWORD });
        work = tempDir("warmrun-heal-");
        journal = path.join(work, "journal.jsonl");
        helperLog = path.join(work, "helper.log");
        writeTree(work, {
            "inputs/base/os-release": "ID=debian\n",
            "inputs/app/run.sh": { content: "#!/bin/sh\necho app\n", mode: 0o755 },
            "inputs/docs/README.md": "# docs\n",
            // The protocol: `get`, the server on stdin, JSON on stdout.
            "bin/docker-credential-warmrun-e2e": {
                content: `#!/bin/sh\nread -r server\necho "$server" >> ${helperLog}\nprintf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n`,
                mode: 0o755,
            },
            "docker/config.json": JSON.stringify({ credHelpers: { [registry.host]: "warmrun-e2e" } }),
        });
        const configFile = writeBundleChainStack(path.join(work, "Pulumi.heal.yaml"), { registry: `${registry.host}/heal`, cacheDir: path.join(work, "cache"), inputs: path.join(work, "inputs") });
        session = new EngineSession(work, "heal", configFile, {
            WARMRUN_JOURNAL: journal,
            DOCKER_CONFIG: path.join(work, "docker"),
            PATH: `${engineBin}:${path.join(work, "bin")}:${process.env.PATH}`,
        });
        await session.init();
    });
    after(async () => {
        await registry?.stop();
        removeTempDirs();
    });

    it("the first up pushes every artifact with the helper's credentials", async () => {
        await run(["up", "--yes", "--skip-preview"]);
        assert.deepEqual(builtNames(newEntries()), ["app", "base", "docs"]);
        assert.ok(fs.readFileSync(helperLog, "utf8").includes(registry.host), "the credential helper was asked for this registry");
        const out = (await session.outputs()).outputs;
        assert.equal(await client.resolveTag("heal/docs", out.docs.ref.split(":").pop()), out.docs.digest);
    });

    it("after the tag is deleted, the preview plans a replace of that artifact alone, and the cache report says why", async () => {
        const docs = (await session.outputs()).outputs.docs;
        await client.deleteManifest("heal/docs", docs.digest);
        assert.equal(await client.resolveTag("heal/docs", docs.ref.split(":").pop()), undefined);
        const preview = await run(["preview", "--json", "--show-sames"]);
        const json = JSON.parse(preview.stdout);
        const replaced = (json.steps as any[]).filter((s) => s.op === "replace").map((s) => s.urn.split("::").pop());
        assert.deepEqual(replaced, ["docs"]);
        assert.deepEqual(json.steps.find((s: any) => s.op === "replace").replaceReasons, ["tagInRegistry"]);
        const said = (json.diagnostics as any[]).map((d) => d.message).join("\n");
        assert.match(said, /docs: 127\.0\.0\.1:\d+\/heal\/docs:\w+: tag gone from the registry: replaced/, "the preview says why");
        const row = reportRows(json).find((r) => r.artifact === "docs")!;
        assert.deepEqual([row.status, row.action, row.reasons], ["miss", "build", ["tag gone from the registry"]]);
        const saved = path.join(work, "preview.json");
        fs.writeFileSync(saved, preview.stdout);
        const report = await new Promise<string>((resolve, reject) =>
            execFile("npm", ["run", "--silent", "cache-report", "--", "--stack", "heal", "--preview-json", saved], { cwd: PROJECT_ROOT, env: session.env }, (e, out) => (e ? reject(e) : resolve(out))),
        );
        printed.push(report);
        assert.match(report, /docs\s+FileBundle\s+miss\s+build\s+\S+\s+\S+\s+tag gone from the registry/);
        assert.deepEqual(newEntries(), [], "the preview built nothing");
    });

    it("a plain up (no --refresh) rebuilds exactly that artifact and the tag is back", async () => {
        const r = await run(["up", "--yes"]);
        assert.match(r.stdout, /docs: \S+: tag gone from the registry: replaced/);
        assert.match(r.stdout, /1 replaced/);
        assert.deepEqual(builtNames(newEntries()), ["docs"]);
        const out = (await session.outputs()).outputs;
        assert.equal(await client.resolveTag("heal/docs", out.docs.ref.split(":").pop()), out.docs.digest);
    });

    it("the next up changes nothing", async () => {
        await run(["up", "--yes", "--expect-no-changes"]);
        assert.deepEqual(newEntries(), []);
    });

    it("the password is in no state file, output or log", async () => {
        const exported = await run(["stack", "export", "--show-secrets"], { withConfig: false });
        const basic = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
        const places: Record<string, string> = { "stack export --show-secrets": exported.stdout, "engine output": printed.join("\n"), journal: fs.readFileSync(journal, "utf8") };
        for (const f of [...filesUnder(path.join(work, "state")), ...filesUnder(path.join(work, "pulumi-home", "logs"))]) places[f] = fs.readFileSync(f, "latin1");
        assert.ok(Object.keys(places).length > 3, "the state files were read");
        for (const [where, text] of Object.entries(places)) {
            assert.ok(!text.includes(PASSWORD), `the password is in ${where}`);
            assert.ok(!text.includes(basic), `the basic credentials are in ${where}`);
        }
    });
});
