// Miss cost: what a CargoDepsImage miss costs cold and warm-started, on a workspace over 154
// crates of the package registry (bench/miss-cost-workspace), after (a) one external crate's version
// bump, (b) one new small dependency, (c) a feature enabled on one crate. Each warm start builds from
// the image of the unchanged workspace; its baseline is a cold build of the same key in the same run
// (warmStart: false, another repository). Figures: build seconds, bytes pushed (the layers the
// registry lacked: over the base image for a cold build, over the parent for a warm one), the image
// (all its layers, and the bytes of its files under /app and CARGO_HOME).
//
// Builds go through the provider's own lifecycle (createArtifact with the provider's builders, real
// buildah, the local registry); the base image is the dev stack's rust-base, brought up (adopted when
// the local registry has it) through the engine first.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { execFileSync } from "child_process";
import { EngineSession, PROJECT_ROOT } from "../test/support/engine";
import { withImageRoot } from "../test/support/imageTree";
import { plan as cargoDepsPlan } from "../components/kinds/cargoDepsImage/plan";
import { StatCache } from "../components/core/fileset";
import { computeKey, inputSummary, shortKey } from "../components/core/keys";
import { ArtifactInputs, createArtifact, KindBuildModule } from "../components/core/lifecycle";
import { buildModuleOf } from "../components/core/providerImpl";
import { RegistryClient } from "../components/oci/registry";
import { warmCandidateOf } from "../components/images/warmStart";
import { HOST_CA_BUNDLE } from "../components/images/buildah";
import { BenchOptions, Figure, figure, mib, secs } from "./lib";

const HOST = "127.0.0.1:5000";
const WARM_REPO = "bench-miss-warm";
const COLD_REPO = "bench-miss-cold";
const B = ["--storage-driver", "vfs"];

interface Built {
    inputs: ArtifactInputs;
    outputs: unknown;
    digest: string;
    seconds: number;
    units: number;
    layers: { digest: string; size: number }[];
}

/** The three changes, each applied to a copy of the workspace by the base image's own cargo. */
const SCENARIOS: { name: string; change: (dir: string) => string }[] = [
    { name: "(a) one external crate's version bump (itoa 1.0.19 -> 1.0.15)", change: () => "cargo update -p itoa --precise 1.0.15" },
    {
        name: "(b) one new small dependency (hex)",
        change: (dir) => {
            const manifest = path.join(dir, "crates/tool/Cargo.toml");
            fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8") + 'hex = "0.4"\n');
            return "cargo update --workspace";
        },
    },
    {
        name: "(c) a feature enabled on one crate (serde_json float_roundtrip)",
        change: (dir) => {
            const root = path.join(dir, "Cargo.toml");
            fs.writeFileSync(root, fs.readFileSync(root, "utf8").replace('serde_json = "1"', 'serde_json = { version = "1", features = ["float_roundtrip"] }'));
            return "true";
        },
    },
];

function buildah(args: string[]): string {
    return execFileSync("buildah", [...B, ...args], { encoding: "utf8", maxBuffer: 64 << 20 }).trim();
}

/** Runs cargo in a working container of the base image on a copy of dir; copies Cargo.lock back. */
function cargoInBase(base: string, dir: string, script: string): void {
    const ctr = buildah(["from", "--quiet", "--tls-verify=false", `docker://${base}`]).split("\n").pop()!;
    try {
        const root = buildah(["mount", ctr]).split("\n").pop()!;
        fs.cpSync(dir, path.join(root, "w"), { recursive: true });
        const volume = fs.existsSync(HOST_CA_BUNDLE) ? ["--volume", `${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`] : [];
        buildah(["run", "--isolation", "chroot", ...volume, ctr, "--", "sh", "-c", `cd /w && ${script}`]);
        fs.copyFileSync(path.join(root, "w", "Cargo.lock"), path.join(dir, "Cargo.lock"));
    } finally {
        buildah(["rm", ctr]);
    }
}

/** Bytes of the files under /app and CARGO_HOME of an image, as buildah unpacks it. */
async function contentBytes(image: string): Promise<number> {
    return withImageRoot(image, (root) => {
        let total = 0;
        const walk = (dir: string) => {
            for (const name of fs.readdirSync(dir)) {
                const p = path.join(dir, name);
                const st = fs.lstatSync(p);
                if (st.isDirectory()) walk(p);
                else if (st.isFile()) total += st.size;
            }
        };
        for (const d of ["app", "usr/local/cargo"]) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d));
        return total;
    });
}

export async function missCostBench(opts: BenchOptions): Promise<Figure[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-miss-"));
    const client = new RegistryClient({ host: HOST, insecure: true });
    try {
        // The base image: the dev stack's chain, through the engine (adopted when the registry has it).
        const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config["warmrun:artifacts"];
        const cfg = path.join(work, "Pulumi.bench-miss.yaml");
        fs.writeFileSync(cfg, YAML.stringify({ config: { "warmrun:registry": `${HOST}/warmrun`, "warmrun:cacheDir": path.join(work, "cache"), "warmrun:artifacts": { "debian-rootfs": dev["debian-rootfs"], "rust-base": dev["rust-base"] } } }));
        const chain = new EngineSession(work, `bench-miss-${process.pid}`, cfg, { WARMRUN_JOURNAL: path.join(work, "chain-journal.jsonl") });
        await chain.init();
        opts.log("miss cost: bringing up debian-rootfs -> rust-base");
        await chain.run(["up", "--yes", "--skip-preview"]);
        const baseOut = (await chain.outputs()).outputs["rust-base"];
        const base: string = baseOut.pinned;
        const baseLayers = new Set(((await client.getManifest(`warmrun/rust-base`, baseOut.digest))!.json.layers as any[]).map((l) => l.digest));
        for (const repo of [WARM_REPO, COLD_REPO].map((n) => `warmrun/${n}`)) {
            for (const tag of await client.listTags(repo)) {
                const d = await client.resolveTag(repo, tag);
                if (d) await client.deleteManifest(repo, d);
            }
            // As in a repository that has held builds before: the base image's layers are there, so
            // no build pays for pushing them (skopeo mounts them from the base's repository).
            execFileSync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${base}`, `docker://${HOST}/${repo}:base-layers`]);
            const seeded = await client.resolveTag(repo, "base-layers");
            if (seeded) await client.deleteManifest(repo, seeded);
        }
        process.env.WARMRUN_JOURNAL = path.join(work, "journal.jsonl");
        const statCache = new StatCache();
        const inputsFor = async (dir: string, name: string, fields: Record<string, unknown> = {}): Promise<ArtifactInputs> => {
            const plan = await cargoDepsPlan({ workspace: dir, ...fields }, { name, where: `warmrun:artifacts.${name}`, projectRoot: dir, cacheDir: path.join(work, "cache"), upstream: { "rust-base": baseOut.key }, statCache, resolveImage: async () => { throw new Error("the default Dockerfile pins nothing"); } });
            const key = computeKey(plan.material);
            return {
                name, kind: "CargoDepsImage", key, registry: { host: HOST, insecure: true }, repository: `warmrun/${name}`, tag: shortKey(key), aliasTags: [], inputs: inputSummary(plan.material),
                build: { ...plan.build, buildArgs: { BASE: base, UPSTREAM_RUST_BASE: base, ...plan.build.buildArgs }, builder: "buildah", ...(fs.existsSync(HOST_CA_BUNDLE) ? { hostCaBundle: HOST_CA_BUNDLE } : {}) },
            };
        };
        const build = async (inputs: ArtifactInputs, parentOutputs?: unknown): Promise<Built> => {
            // What the provider does: its diff of the replaced image names the candidate for the create.
            const candidate = parentOutputs ? warmCandidateOf(parentOutputs, inputs) : undefined;
            const deps = buildModuleOf(inputs.kind)!;
            const own: KindBuildModule = candidate ? { ...deps, build: (ctx) => deps.build!({ ...ctx, inputs: { ...ctx.inputs, build: { ...ctx.inputs.build, warmFrom: candidate } } }) } : deps;
            const out = await createArtifact(inputs, { kinds: (k) => (k === inputs.kind ? own : buildModuleOf(k)), log: (m) => opts.log(m) });
            const m = await client.getManifest(inputs.repository, out.digest);
            const entry = JSON.parse(fs.readFileSync(process.env.WARMRUN_JOURNAL!, "utf8").trim().split("\n").pop()!);
            return { inputs, outputs: out, digest: out.digest, seconds: out.buildSeconds, units: entry.compiledUnits ?? 0, layers: (m!.json.layers as any[]).map((l) => ({ digest: l.digest, size: l.size })) };
        };
        const sum = (layers: { size: number }[]) => layers.reduce((s, l) => s + l.size, 0);
        const newOver = (b: Built, over: Set<string>) => sum(b.layers.filter((l) => !over.has(l.digest)));

        const baseDir = path.join(work, "base");
        fs.cpSync(path.join(PROJECT_ROOT, "bench/miss-cost-workspace"), baseDir, { recursive: true });
        opts.log("miss cost: cold build of the unchanged workspace (the parent of every warm start)");
        const parent = await build(await inputsFor(baseDir, WARM_REPO));
        opts.log(`miss cost: parent ${parent.units} units, ${parent.seconds} s`);
        const parentLayers = new Set(parent.layers.map((l) => l.digest));

        const figures: Figure[] = [];
        for (const s of SCENARIOS) {
            const dir = path.join(work, `scenario-${figures.length}`);
            fs.cpSync(baseDir, dir, { recursive: true });
            cargoInBase(base, dir, s.change(dir));
            const coldBuilt = await build(await inputsFor(dir, COLD_REPO, { warmStart: false }));
            const warmInputs = await inputsFor(dir, WARM_REPO);
            if (warmInputs.key !== coldBuilt.inputs.key) throw new Error(`miss cost: ${s.name}: the warm and cold builds have different keys`);
            const warmBuilt = await build(warmInputs, parent.outputs);
            const entry = JSON.parse(fs.readFileSync(process.env.WARMRUN_JOURNAL!, "utf8").trim().split("\n").pop()!);
            if (!entry.warmFrom) throw new Error(`miss cost: ${s.name}: the warm build went cold (see the log)`);
            const coldPushed = newOver(coldBuilt, baseLayers);
            const warmPushed = newOver(warmBuilt, parentLayers);
            const [coldContent, warmContent] = [await contentBytes(`${HOST}/${coldBuilt.inputs.repository}@${coldBuilt.digest}`), await contentBytes(`${HOST}/${warmBuilt.inputs.repository}@${warmBuilt.digest}`)];
            const note = `${warmBuilt.units} of ${coldBuilt.units} packages compiled`;
            figures.push(
                figure({ section: "miss cost", name: `${s.name}: build time (time ratio)`, warmrun: `warm ${secs(warmBuilt.seconds)}`, baseline: `cold ${secs(coldBuilt.seconds)}`, ratio: warmBuilt.seconds / coldBuilt.seconds, target: "<= 0.2", note }),
                figure({ section: "miss cost", name: `${s.name}: bytes pushed (ratio to the cold image's)`, warmrun: `warm ${mib(warmPushed)}`, baseline: `cold ${mib(coldPushed)}`, ratio: warmPushed / coldPushed, target: "<= 0.25" }),
                figure({ section: "miss cost", name: `${s.name}: files under /app and CARGO_HOME (size ratio)`, warmrun: `warm ${mib(warmContent)}`, baseline: `cold ${mib(coldContent)}`, ratio: warmContent / coldContent, target: "<= 1.05" }),
                figure({ section: "miss cost", name: `${s.name}: image, all layers (size ratio)`, warmrun: `warm ${mib(sum(warmBuilt.layers))}, ${warmBuilt.layers.length} layers`, baseline: `cold ${mib(sum(coldBuilt.layers))}, ${coldBuilt.layers.length} layers`, ratio: sum(warmBuilt.layers) / sum(coldBuilt.layers) }),
            );
            opts.log(`miss cost: ${s.name}: warm ${warmBuilt.seconds} s (${warmBuilt.units} units), cold ${coldBuilt.seconds} s (${coldBuilt.units} units)`);
        }
        return figures;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
