// The CargoDepsImage builder of the provider (buildah). With warmrun's own Dockerfile, a miss first
// tries a warm start: a working container from the closest earlier image of the same artifact, its
// skeleton replaced by the new one, the cook run again (cargo compiles only the units whose
// fingerprints changed), then target/ and CARGO_HOME's registry pruned to what the new build uses,
// committed as one new layer over the parent's (shared blobs) and pushed manifest last. Anything
// that stops a warm start falls back to the cold build (buildah bud of the Dockerfile), with one
// log line; the choices and the prune lists are planned in warmStart.ts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash, randomBytes } from "crypto";
import { parse as parseToml } from "smol-toml";
import { BuildContext, BuildResult } from "../core/lifecycle";
import { ARTIFACT_ANNOTATION, artifactAnnotations, KEY_ANNOTATION } from "../oci/annotations";
import { provenanceAnnotations } from "../oci/provenance";
import { BUILDAH_GLOBAL, buildWithBuildah, debPackagesOfLocalImage, HOST_CA_BUNDLE, ImageBuildSpec, materializeContext, pushWithBuildah, writeAuthFile } from "./buildah";
import { runTool } from "../core/process";
import { recordBuildImages } from "./storage";
import { summaryOf } from "../downloads/counter";
import { RegistryClient } from "../oci/registry";
import {
    CARGO_PROGRESS_ARGS,
    cargoProgressFilter,
    chooseParent,
    compatOf,
    countCompilingLines,
    countUnits,
    LATEST_ALIAS,
    parseCargoMessages,
    ParentAnswer,
    planRegistryPrune,
    planTargetPrune,
    TargetEntry,
    WarmCandidate,
    warmAnnotations,
} from "./warmStart";
import { shortKey } from "../core/keys";

/** The build block, with the candidate the provider's diff found (components/providerImpl.ts). */
type DepsSpec = ImageBuildSpec & { warmFrom?: WarmCandidate };

/** Raised when a warm start cannot go on; the builder then builds cold. */
class WarmStartStopped extends Error {}

const PROBE = 'cd /app 2>/dev/null; rustc -vV; echo "CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}"';

export async function buildCargoDepsImage(ctx: BuildContext): Promise<BuildResult> {
    const spec = ctx.inputs.build as DepsSpec;
    // A Dockerfile of the user's own: built as it says, no warm start.
    if (!spec.cook) return buildWithBuildah(ctx);
    const compat = compatOf(spec);
    const cold = async (): Promise<BuildResult> => {
        const cookArgs = [spec.buildArgs.CARGO_ARGS ?? "", ...CARGO_PROGRESS_ARGS].join(" ").trim();
        const coldSpec: ImageBuildSpec = { ...spec, buildArgs: { ...spec.buildArgs, CARGO_ARGS: cookArgs } };
        delete (coldSpec as DepsSpec).warmFrom;
        const r = await buildWithBuildah({ ...ctx, inputs: { ...ctx.inputs, build: coldSpec } }, { stream: cookLog(), annotations: warmAnnotations(compat, 0) });
        return { digest: r.digest, downloads: r.downloads, sbom: r.sbom, compiledUnits: countCompilingLines(r.output) };
    };
    if (!spec.cook.warmStart) return cold();

    const { inputs, client, log } = ctx;
    const choice = await findParent(client, inputs, spec, compat);
    if (!choice.parent) {
        log(`${inputs.name}: no warm start (${choice.rejected.length ? choice.rejected.join("; ") : "no earlier image of this artifact"}): cold build`);
        return cold();
    }
    const parent = choice.parent;
    try {
        return await warmBuild(ctx, spec, compat, parent);
    } catch (e: any) {
        const reason = String(e?.message ?? e).split("\n")[0];
        log(`${inputs.name}: warm start from ${shortKey(parent.key)} (${parent.digest.slice(0, 19)}) cannot proceed (${reason}): cold build`);
        return cold();
    }
}

/** Asks the registry about the candidates: the state's previous image, then the `latest` alias. */
async function findParent(client: RegistryClient, inputs: BuildContext["inputs"], spec: DepsSpec, compat: string) {
    const candidates: { source: "state" | "latest"; tag: string; digest?: string }[] = [];
    if (spec.warmFrom?.tag) candidates.push({ source: "state", tag: spec.warmFrom.tag, digest: spec.warmFrom.digest });
    if (spec.warmFrom?.tag !== LATEST_ALIAS && inputs.tag !== LATEST_ALIAS) candidates.push({ source: "latest", tag: LATEST_ALIAS });
    const answers: ParentAnswer[] = [];
    for (const c of candidates) {
        // The state's digest when it has one (the tag may have moved since), else what the tag names.
        const digest = c.digest ?? (await client.resolveTag(inputs.repository, c.tag));
        const m = digest ? await client.getManifest(inputs.repository, digest) : undefined;
        answers.push({ source: c.source, tag: c.tag, digest: m ? digest : undefined, annotations: m?.json.annotations ?? {}, layers: (m?.json.layers ?? []).map((l: any) => l.digest) });
    }
    return chooseParent(answers, { artifact: inputs.name, key: inputs.key, compat, maxDepth: spec.cook!.maxDepth, baseLayers: await baseLayers(client, inputs.registry.host, spec.buildArgs.BASE) }, ARTIFACT_ANNOTATION, KEY_ANNOTATION);
}

/** Layers of the base image (BASE, pinned by digest in this registry), when it can be read. */
async function baseLayers(client: RegistryClient, host: string, base: string | undefined): Promise<string[] | undefined> {
    const m = base && base.startsWith(`${host}/`) ? /^[^/]+\/(.+)@(sha256:[0-9a-f]{64})$/.exec(base) : null;
    if (!m) return undefined;
    const manifest = await client.getManifest(m[1], m[2]).catch(() => undefined);
    const layers = manifest?.json.layers;
    return Array.isArray(layers) ? layers.map((l: any) => l.digest) : undefined;
}

async function warmBuild(ctx: BuildContext, spec: DepsSpec, compat: string, parent: { digest: string; key: string; depth: number }): Promise<BuildResult> {
    const { inputs, log } = ctx;
    const name = inputs.name;
    const secrets = [inputs.registry.password ?? ""];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-warm-"));
    const container = `warmrun-warm-${name}-${randomBytes(4).toString("hex")}`;
    const image = `localhost/warmrun-build/${name}:${inputs.tag}`;
    const buildah = (args: string[], opts: { stdout?: (d: Buffer) => void; quiet?: boolean; stream?: (t: string) => void } = {}) =>
        runTool(name, "buildah", [...BUILDAH_GLOBAL, ...args], { secrets, stdout: opts.stdout, stream: opts.quiet ? () => undefined : opts.stream });
    const tls = inputs.registry.insecure ? ["--tls-verify=false"] : [];
    const volumes = spec.hostCaBundle ? ["--volume", `${spec.hostCaBundle}:${HOST_CA_BUNDLE}:ro`] : [];
    let created = false;
    try {
        const authfile = writeAuthFile(tmp, inputs.registry.host, inputs.registry.username, inputs.registry.password);
        const auth = authfile ? ["--authfile", authfile] : [];
        const parentRef = `${inputs.registry.host}/${inputs.repository}@${parent.digest}`;
        log(`${name}: warm start from ${shortKey(parent.key)} (${parentRef})`);
        // Builder storage: the parent it pulls, the image it commits and its container go when the run ends.
        recordBuildImages(inputs, image, { also: [parentRef], containers: [container] });
        const t0 = Date.now();
        await buildah(["from", "--quiet", "--name", container, ...tls, ...auth, `docker://${parentRef}`], { quiet: true });
        created = true;
        const root = (await buildah(["mount", container], { quiet: true })).output.trim().split("\n").pop()!;
        const app = path.join(root, "app");
        const before = probeOf((await buildah(["run", "--isolation", "chroot", container, "--", "sh", "-c", PROBE], { quiet: true })).output);

        // The parent's skeleton goes (so deleted crates vanish), the new one is laid over its target/.
        const appStat = fs.lstatSync(app, { throwIfNoEntry: false });
        if (!appStat?.isDirectory()) throw new WarmStartStopped("the parent has no /app directory");
        const targetStat = fs.lstatSync(path.join(app, "target"), { throwIfNoEntry: false });
        if (!targetStat?.isDirectory()) throw new WarmStartStopped("the parent has no /app/target directory");
        for (const entry of fs.readdirSync(app)) if (entry !== "target") fs.rmSync(path.join(app, entry), { recursive: true, force: true });
        materializeContext(spec, app);

        const after = probeOf((await buildah(["run", "--isolation", "chroot", container, "--", "sh", "-c", PROBE], { quiet: true })).output);
        if (after.rustc !== before.rustc) throw new WarmStartStopped(`rustc differs: the parent's is ${firstRelease(before.rustc)}, this build's ${firstRelease(after.rustc)}`);

        // The cook, as the Dockerfile's RUN does it, with cargo's JSON messages on stdout.
        const cookArgs = [spec.buildArgs.CARGO_ARGS ?? "", ...CARGO_PROGRESS_ARGS].join(" ").trim();
        const stdout: Buffer[] = [];
        const started = Date.now();
        const cook = await buildah(
            ["run", "--isolation", "chroot", ...volumes, "--env", `CARGO_ARGS=${cookArgs}`, container, "--", "sh", "-c", "cd /app && exec cargo build --message-format=json-render-diagnostics ${CARGO_ARGS}"],
            { stdout: (d) => stdout.push(d), stream: cookLog() },
        );
        const fromSeconds = (started - t0) / 1000;
        const cookSeconds = (Date.now() - started) / 1000;
        const messages = parseCargoMessages(Buffer.concat(stdout).toString("utf8"));
        const units = countUnits(messages);
        if (units.units === 0) throw new WarmStartStopped("cargo listed no unit");

        // Prune what the new build no longer uses.
        const target = path.join(app, "target");
        const entries = listTarget(target);
        const plan = planTargetPrune(messages, entries, { targetDir: "/app/target", cookStartedMs: started - 2000, identityOf: (rel) => fileIdentity(path.join(target, rel)) });
        for (const rel of plan.remove) removeInside(target, rel);
        const cargoHome = path.join(root, after.cargoHome);
        let registryRemoved = 0;
        const registry = path.join(cargoHome, "registry");
        if (fs.lstatSync(registry, { throwIfNoEntry: false })?.isDirectory()) {
            // CARGO_HOME is a path of the image: a symbolic link on the way would lead out of it.
            if (!inside(fs.realpathSync(root), fs.realpathSync(registry))) throw new WarmStartStopped(`CARGO_HOME ${after.cargoHome} leads out of the image through a symbolic link`);
            const removeRegistry = planRegistryPrune(listRegistry(registry), plan.packages, lockPackageNames(path.join(app, "Cargo.lock")));
            for (const rel of removeRegistry) removeInside(registry, rel);
            registryRemoved = removeRegistry.length;
        }
        log(`${name}: warm cook ${Math.round(cookSeconds)} s (after ${Math.round(fromSeconds)} s to set up the parent): ${units.compiled} of ${units.units} units compiled, ${units.fresh} fresh; pruned ${plan.remove.length} entries of target/ and ${registryRemoved} of the registry cache`);
        const t1 = Date.now();

        // Labels and annotations as a cold build sets them (budArgs in buildah.ts), plus the warm-start facts.
        const labels = artifactAnnotations({ key: inputs.key, kind: inputs.kind, name });
        const annotations = { ...labels, ...provenanceAnnotations(inputs.provenance), ...warmAnnotations(compat, parent.depth + 1, parent) };
        const config: string[] = ["config"];
        for (const [k, v] of Object.entries(labels).sort()) config.push("--label", `${k}=${v}`);
        for (const [k, v] of Object.entries(annotations).sort()) config.push("--annotation", `${k}=${v}`);
        await buildah([...config, container], { quiet: true });
        await buildah(["umount", container], { quiet: true });
        await buildah(["commit", "--quiet", "--format", "oci", container, image], { quiet: true });
        const t2 = Date.now();
        const digest = await pushWithBuildah(inputs, image, tmp, authfile);
        const debs = await debPackagesOfLocalImage(name, image);
        log(`${name}: warm start committed in ${Math.round((t2 - t1) / 1000)} s, pushed in ${Math.round((Date.now() - t2) / 1000)} s`);
        return {
            digest,
            downloads: summaryOf(cook.downloads),
            sbom: { debs },
            warmFrom: { digest: parent.digest, key: parent.key, depth: parent.depth + 1 },
            compiledUnits: countCompilingLines(cook.output),
        };
    } finally {
        if (created) await runTool(name, "buildah", [...BUILDAH_GLOBAL, "rm", container], { stream: () => undefined }).catch(() => undefined);
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** The cook's output for the log, without cargo's progress frames (they are counted, not shown). */
function cookLog(): (text: string) => void {
    const filter = cargoProgressFilter();
    return (text) => {
        const shown = filter(text);
        if (shown) process.stderr.write(shown);
    };
}

function probeOf(output: string): { rustc: string; cargoHome: string } {
    const home = /^CARGO_HOME=(\/\S*)$/m.exec(output);
    if (!home) throw new WarmStartStopped("cannot tell CARGO_HOME of the parent");
    const rustc = output.slice(0, home.index).trim();
    if (!/^rustc /.test(rustc)) throw new WarmStartStopped("rustc does not run in the parent");
    return { rustc, cargoHome: home[1] };
}

function firstRelease(rustcVV: string): string {
    return /^release: (\S+)$/m.exec(rustcVV)?.[1] ?? rustcVV.split("\n")[0];
}

function inside(root: string, p: string): boolean {
    const r = path.relative(root, p);
    return r !== "" && !r.startsWith("..") && !path.isAbsolute(r);
}

/** Removes rel under base without following a symbolic link on the way. */
function removeInside(base: string, rel: string): void {
    let dir = base;
    const parts = rel.split("/");
    for (const part of parts.slice(0, -1)) {
        dir = path.join(dir, part);
        if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
    }
    fs.rmSync(path.join(dir, parts[parts.length - 1]), { recursive: true, force: true });
}

/** The entries of target/ the prune plan looks at: profile directories and the areas inside them. */
function listTarget(target: string): TargetEntry[] {
    const out: TargetEntry[] = [];
    const add = (rel: string, st: fs.Stats) => out.push({ path: rel, dir: st.isDirectory(), mtimeMs: st.mtimeMs });
    const walk = (rel: string, depth: number) => {
        const abs = path.join(target, rel);
        for (const name of fs.readdirSync(abs)) {
            const r = rel ? `${rel}/${name}` : name;
            const st = fs.lstatSync(path.join(target, r));
            add(r, st);
            if (!st.isDirectory()) continue;
            const isProfile = fs.lstatSync(path.join(target, r, ".fingerprint"), { throwIfNoEntry: false })?.isDirectory();
            if (isProfile) {
                for (const area of fs.readdirSync(path.join(target, r))) {
                    const ar = `${r}/${area}`;
                    const ast = fs.lstatSync(path.join(target, ar));
                    add(ar, ast);
                    if (ast.isDirectory() && ["deps", "build", ".fingerprint", "incremental", "examples"].includes(area)) {
                        for (const n of fs.readdirSync(path.join(target, ar))) add(`${ar}/${n}`, fs.lstatSync(path.join(target, ar, n)));
                    }
                }
            } else if (depth < 1) walk(r, depth + 1); // target/<triple>/<profile>
        }
    };
    walk("", 0);
    return out;
}

/** Same file: device and inode (cargo hard-links what it uplifts), else size and content. */
function fileIdentity(abs: string): string | undefined {
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!st?.isFile()) return undefined;
    if (st.nlink > 1) return `inode:${st.dev}:${st.ino}`;
    return `content:${st.size}:${createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}`;
}

/** cache/<index>/<file>, src/<index>/<dir>, and the files under index/<index>/.cache/. */
function listRegistry(registry: string): string[] {
    const out: string[] = [];
    const dirs = (p: string) => (fs.lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ? fs.readdirSync(p) : []);
    for (const area of ["cache", "src"]) for (const index of dirs(path.join(registry, area))) for (const n of dirs(path.join(registry, area, index))) out.push(`${area}/${index}/${n}`);
    for (const index of dirs(path.join(registry, "index"))) {
        const walk = (rel: string) => {
            for (const n of dirs(path.join(registry, rel))) {
                const r = `${rel}/${n}`;
                const st = fs.lstatSync(path.join(registry, r));
                if (st.isDirectory()) walk(r);
                else if (st.isFile()) out.push(r);
            }
        };
        walk(`index/${index}/.cache`);
    }
    return out;
}

/** Names of the registry packages in the new Cargo.lock (those with a source). */
function lockPackageNames(lockFile: string): Set<string> {
    const doc: any = parseToml(fs.readFileSync(lockFile, "utf8"));
    return new Set(((doc.package ?? []) as any[]).filter((p) => typeof p.source === "string").map((p) => String(p.name)));
}

export { WarmStartStopped };
