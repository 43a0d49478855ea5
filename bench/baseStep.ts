// BaseImage step reuse: what a miss costs when only the Containerfile's last RUN step changed.
// A Containerfile of two RUN steps over a small busybox base (an earlier step that takes longer
// than the last one, both writing files into their layers) is built cold, then with only its
// last step changed. The changed build goes through the provider's own lifecycle (createArtifact,
// real buildah, a real registry as the layer cache); its baseline is that step alone, measured in
// the same run: the same command in a working container of the first build's image. The bench has
// its own buildah storage, emptied after the cold build, so the changed build takes its unchanged
// step from the registry's layer cache, as a fresh CI runner does, not from local leftovers.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { startRegistry } from "../test/support/registry";
import { plan as baseImagePlan } from "../components/kinds/baseImage/plan";
import { StatCache } from "../components/core/fileset";
import { computeKey, inputSummary, shortKey } from "../components/core/keys";
import { ArtifactInputs, createArtifact } from "../components/core/lifecycle";
import { buildModuleOf } from "../components/core/providerImpl";
import { layerCacheRepository } from "../components/images/layerCache";
import { storageDriver } from "../components/images/storage";
import { BenchOptions, Figure, figure, secs } from "./lib";

const B = ["--storage-driver", storageDriver()];

function buildah(args: string[]): string {
    return execFileSync("buildah", [...B, ...args], { encoding: "utf8", maxBuffer: 64 << 20 }).trim();
}

/** Work a step does: hash `rounds` x 256 MiB of zeros, then write `mib` MiB of random bytes into its layer. */
function stepCommand(label: string, rounds: number, mib: number): string {
    return `i=0; while [ $i -lt ${rounds} ]; do dd if=/dev/zero bs=1M count=256 2>/dev/null | sha256sum >> /${label}.sums; i=$((i+1)); done; dd if=/dev/urandom of=/${label}.bin bs=1M count=${mib} 2>/dev/null`;
}

/** A scratch image holding a static busybox as /bin/sh and its applets, pushed to `ref`; returns its digest. */
function pushBusyboxBase(ref: string, work: string): string {
    const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p));
    if (!busybox) throw new Error("base step bench: busybox is not installed: run `npm run setup` (it installs Debian's busybox-static)");
    const ctr = buildah(["from", "scratch"]).split("\n").pop()!;
    try {
        const root = buildah(["mount", ctr]).split("\n").pop()!;
        fs.mkdirSync(path.join(root, "bin"), { recursive: true });
        fs.copyFileSync(busybox, path.join(root, "bin/busybox"));
        fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
        for (const applet of ["sh", "dd", "sha256sum", "echo"]) fs.symlinkSync("busybox", path.join(root, "bin", applet));
        fs.mkdirSync(path.join(root, "dev"), { recursive: true });
        const digestFile = path.join(work, "base.digest");
        buildah(["commit", "--format", "oci", "-q", ctr, "localhost/warmrun-bench/busybox:base"]);
        buildah(["push", "--tls-verify=false", "--format", "oci", "--digestfile", digestFile, "localhost/warmrun-bench/busybox:base", `docker://${ref}`]);
        return fs.readFileSync(digestFile, "utf8").trim();
    } finally {
        buildah(["rm", ctr]);
        buildah(["rmi", "localhost/warmrun-bench/busybox:base"]);
    }
}

/** A containers-storage configuration of the bench's own (under `work`, the builds' driver), so emptying it touches nothing else. */
function ownStorage(work: string): string {
    const conf = path.join(work, "storage.conf");
    fs.writeFileSync(conf, `[storage]\ndriver = "${storageDriver()}"\ngraphroot = "${path.join(work, "storage")}"\nrunroot = "${path.join(work, "run")}"\n`);
    return conf;
}

export async function baseStepBench(opts: BenchOptions): Promise<Figure[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-step-"));
    const registry = await startRegistry();
    const storageConf = process.env.CONTAINERS_STORAGE_CONF;
    process.env.CONTAINERS_STORAGE_CONF = ownStorage(work);
    try {
        const base = `${registry.host}/bench/busybox`;
        const baseRef = `${base}@${pushBusyboxBase(`${base}:base`, work)}`;
        const earlier = stepCommand("earlier", 24, 64);
        const lastStep = (version: string) => `echo ${version} > /version && ${stepCommand("last", 8, 32)}`;
        const containerfile = (version: string) => `FROM ${baseRef}\nRUN ${earlier}\nRUN ${lastStep(version)}\n`;
        // Each run builds into its own repository, so its first build finds an empty layer cache.
        const inputsFor = async (version: string, repository: string): Promise<ArtifactInputs> => {
            const dir = path.join(work, version);
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "Containerfile"), containerfile(version));
            const plan = await baseImagePlan({ containerfile: path.join(dir, "Containerfile") }, { name: "steps", projectRoot: dir, upstream: {}, statCache: new StatCache(), resolveImage: async () => undefined });
            const key = computeKey(plan.material);
            return {
                name: "steps", kind: "BaseImage", key, registry: { host: registry.host, insecure: true }, repository, tag: shortKey(key), aliasTags: [], inputs: inputSummary(plan.material),
                // As BaseImage's wiring sets it (kinds/baseImage/component.ts): the registry is the layer cache.
                build: { ...plan.build, layerCache: layerCacheRepository(registry.host, repository), builder: "buildah" },
            };
        };
        process.env.WARMRUN_JOURNAL = path.join(work, "journal.jsonl");
        const build = async (inputs: ArtifactInputs) => {
            const start = Date.now();
            const out = await createArtifact(inputs, { kinds: buildModuleOf, log: (m) => opts.log(m) });
            return { digest: out.digest, seconds: (Date.now() - start) / 1000 };
        };
        const figures: Figure[] = [];
        const warm: number[] = [];
        const step: number[] = [];
        const stepCommitted: number[] = [];
        const cold: number[] = [];
        for (let run = 0; run < opts.runs; run++) {
            // Every run starts cold: an empty repository and layer cache, an empty local storage.
            const repository = `bench/steps-${run}`;
            buildah(["rmi", "--all", "--force"]);
            const first = await build(await inputsFor(`v${run}-a`, repository));
            cold.push(first.seconds);
            buildah(["rmi", "--all", "--force"]);
            const changed = await build(await inputsFor(`v${run}-b`, repository));
            warm.push(changed.seconds);
            // The baseline: the changed step alone, in a working container of the first image.
            const ctr = buildah(["from", "--quiet", "--tls-verify=false", `docker://${registry.host}/${repository}@${first.digest}`]).split("\n").pop()!;
            try {
                const start = Date.now();
                buildah(["run", "--isolation", "chroot", ctr, "--", "sh", "-c", lastStep(`v${run}-b`)]);
                step.push((Date.now() - start) / 1000);
                // A step in any build also commits its layer: the same step with its commit.
                buildah(["commit", "--quiet", "--format", "oci", ctr, "localhost/warmrun-bench/step:committed"]);
                stepCommitted.push((Date.now() - start) / 1000);
            } finally {
                buildah(["rm", ctr]);
            }
            opts.log(`base step: cold ${cold[run].toFixed(1)} s, last step changed ${warm[run].toFixed(1)} s, the step alone ${step[run].toFixed(1)} s, with its commit ${stepCommitted[run].toFixed(1)} s`);
        }
        const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
        figures.push(
            figure({ section: "base step", name: "only the last RUN step changed: the build (time ratio to that step alone)", warmrun: secs(med(warm)), baseline: `step alone ${secs(med(step))}`, ratio: med(warm) / med(step), target: "<= 1.1", note: `cold build of the same Containerfile ${secs(med(cold))}; buildah storage driver ${storageDriver()}` }),
            figure({ section: "base step", name: "only the last RUN step changed: the build (time ratio to that step and its layer's commit)", warmrun: secs(med(warm)), baseline: `step + commit ${secs(med(stepCommitted))}`, ratio: med(warm) / med(stepCommitted), target: "<= 1.1" }),
            // What a changed build costs beside its step (pulling the base and the cached layers,
            // committing, pushing, the SBOM): a constant, so the ratio above depends on the step's length.
            figure({ section: "base step", name: "only the last RUN step changed: time beside the step (median of the runs' differences)", warmrun: secs(med(warm.map((w, i) => w - step[i]))), baseline: `cold build ${secs(med(cold))}` }),
        );
        return figures;
    } finally {
        delete process.env.WARMRUN_JOURNAL;
        try {
            buildah(["rmi", "--all", "--force"]);
        } finally {
            if (storageConf === undefined) delete process.env.CONTAINERS_STORAGE_CONF;
            else process.env.CONTAINERS_STORAGE_CONF = storageConf;
        }
        await registry.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}
