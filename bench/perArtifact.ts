// Cost per artifact: generated stacks of 5, 20 and 80 small FileBundles, a warm `pulumi preview` and a
// no-op `pulumi up` of each, against the trivial stack (bench/trivial) of as many resources and
// components on the same runtime; the slope (seconds per added artifact, from 5 to 80) is the
// figure. Then one FileBundle of 50,000 files added to the 5-artifact stack: what it adds to a warm
// preview, and the size of the state with it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../test/support/engine";
import { BenchStack } from "./noop";
import { BenchOptions, Figure, figure, medianTime, secs } from "./lib";

const SIZES = [5, 20, 80];
const LARGE_FILES = 50_000;
const REGISTRY = "127.0.0.1:5000/bench-scale";

function writeBundles(dir: string, n: number): Record<string, unknown> {
    const artifacts: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
        const root = path.join(dir, `b${i}`);
        fs.mkdirSync(path.join(root, "etc"), { recursive: true });
        fs.writeFileSync(path.join(root, "README"), `bundle ${i}\n`);
        fs.writeFileSync(path.join(root, "etc", "config.toml"), `name = "b${i}"\n`);
        artifacts[`b${i}`] = { kind: "FileBundle", root };
    }
    return artifacts;
}

function largeTree(cacheDir: string): string {
    const root = path.join(cacheDir, `large-bundle-${LARGE_FILES}`);
    const done = `${root}.complete`;
    if (fs.existsSync(done)) return root;
    fs.rmSync(root, { recursive: true, force: true });
    for (let i = 0; i < LARGE_FILES; i++) {
        const dir = path.join(root, "src", `d${Math.floor(i / 500)}`);
        if (i % 500 === 0) fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `f${i}.txt`), `file ${i}\n`);
    }
    fs.writeFileSync(done, "");
    return root;
}

async function stateBytes(stack: BenchStack): Promise<number> {
    return (await stack.pulumi(["stack", "export"], false)).stdout.length;
}

export async function perArtifactBench(opts: BenchOptions): Promise<Figure[]> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-bench-scale-"));
    const trivialDir = path.join(work, "trivial-project");
    fs.cpSync(path.join(PROJECT_ROOT, "bench", "trivial"), trivialDir, { recursive: true });
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(trivialDir, "node_modules"));
    const rows: { n: number; preview: number; up: number; tPreview: number; tUp: number }[] = [];
    const figures: Figure[] = [];
    try {
        const stacks: Record<number, { ours: BenchStack; artifacts: Record<string, unknown> }> = {};
        for (const n of SIZES) {
            const inputs = path.join(work, `inputs-${n}`);
            const artifacts = writeBundles(inputs, n);
            const ours = new BenchStack(PROJECT_ROOT, `bench-scale-${n}-${process.pid}`, path.join(work, `ours-${n}`));
            await ours.init({ "warmrun:registry": REGISTRY, "warmrun:cacheDir": path.join(work, `cache-${n}`), "warmrun:artifacts": artifacts });
            opts.log(`per-artifact: up of ${n} bundles`);
            await ours.pulumi(["up", "--yes", "--skip-preview"]);
            const counts = await ours.counts();
            const trivial = new BenchStack(trivialDir, `bench-scale-trivial-${n}-${process.pid}`, path.join(work, `trivial-${n}`));
            await trivial.init({ "trivial:components": counts.components, "trivial:resources": counts.resources });
            await trivial.pulumi(["up", "--yes", "--skip-preview"]);
            // One of each first: the runtime's caches warm for both.
            await ours.pulumi(["preview", "--expect-no-changes"]);
            await trivial.pulumi(["preview", "--expect-no-changes"]);
            const preview = await medianTime(opts.runs, () => ours.pulumi(["preview", "--expect-no-changes"]));
            const tPreview = await medianTime(opts.runs, () => trivial.pulumi(["preview", "--expect-no-changes"]));
            const up = await medianTime(opts.runs, () => ours.pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]));
            const tUp = await medianTime(opts.runs, () => trivial.pulumi(["up", "--yes", "--skip-preview", "--expect-no-changes"]));
            rows.push({ n, preview: preview.seconds, up: up.seconds, tPreview: tPreview.seconds, tUp: tUp.seconds });
            stacks[n] = { ours, artifacts };
            figures.push(
                figure({
                    section: "per-artifact",
                    name: `${n} bundles (${counts.resources} resources + ${counts.components} components): warm preview, no-op up`,
                    warmrun: `preview ${secs(preview.seconds)}, up ${secs(up.seconds)}`,
                    baseline: `trivial: preview ${secs(tPreview.seconds)}, up ${secs(tUp.seconds)}`,
                    ratio: preview.seconds / tPreview.seconds,
                    note: "preview time ratio",
                }),
            );
        }
        const first = rows[0];
        const last = rows[rows.length - 1];
        const slope = (a: number, b: number) => (b - a) / (last.n - first.n);
        const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
        figures.push(
            figure({
                section: "per-artifact",
                name: `warm preview, per added artifact (${first.n} -> ${last.n})`,
                warmrun: ms(slope(first.preview, last.preview)),
                baseline: `trivial ${ms(slope(first.tPreview, last.tPreview))}`,
                ratio: slope(first.preview, last.preview) * 1000,
                target: "<= 15 ms",
                note: "ratio column: ms",
            }),
            figure({
                section: "per-artifact",
                name: `no-op up, per added artifact (${first.n} -> ${last.n})`,
                warmrun: ms(slope(first.up, last.up)),
                baseline: `trivial ${ms(slope(first.tUp, last.tUp))}`,
                ratio: slope(first.up, last.up) * 1000,
                target: "<= 40 ms",
                note: "ratio column: ms",
            }),
        );

        // The large context: the smallest stack plus one bundle of 50,000 files.
        const base = stacks[SIZES[0]];
        const large = largeTree(opts.cacheDir);
        const withLarge = new BenchStack(PROJECT_ROOT, `bench-scale-large-${process.pid}`, path.join(work, "ours-large"));
        await withLarge.init({
            "warmrun:registry": REGISTRY,
            "warmrun:cacheDir": path.join(work, "cache-large"),
            "warmrun:artifacts": { ...base.artifacts, large: { kind: "FileBundle", root: large } },
        });
        opts.log(`per-artifact: up with one bundle of ${LARGE_FILES} files`);
        await withLarge.pulumi(["up", "--yes", "--skip-preview"]);
        await withLarge.pulumi(["preview", "--expect-no-changes"]);
        const largePreview = await medianTime(opts.runs, () => withLarge.pulumi(["preview", "--expect-no-changes"]));
        const smallPreview = await medianTime(opts.runs, () => base.ours.pulumi(["preview", "--expect-no-changes"]));
        const [bigState, smallState] = [await stateBytes(withLarge), await stateBytes(base.ours)];
        figures.push(
            figure({
                section: "per-artifact",
                name: `warm preview with one ${LARGE_FILES.toLocaleString("en")}-file bundle, over the ${SIZES[0]}-bundle stack`,
                warmrun: `+${secs(largePreview.seconds - smallPreview.seconds)} (${secs(largePreview.seconds)})`,
                baseline: `${SIZES[0]} bundles ${secs(smallPreview.seconds)}`,
                ratio: largePreview.seconds - smallPreview.seconds,
                target: "<= 1 s",
                note: "ratio column: seconds added",
            }),
            figure({
                section: "per-artifact",
                name: `state with the ${LARGE_FILES.toLocaleString("en")}-file bundle (stack export)`,
                warmrun: `${(bigState / 1024).toFixed(0)} KiB`,
                baseline: `${SIZES[0]} bundles ${(smallState / 1024).toFixed(0)} KiB`,
                ratio: bigState / smallState,
                note: "size ratio; bounded when it does not grow with the file count",
            }),
        );
        return figures;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}
