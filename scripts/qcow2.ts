// npm run qcow2 -- get|pull|push|cache: the containerDisk cache from a Makefile, with the
// subcommands, arguments, environment and exit codes of flightctl's qcow2_cache_manager.sh, so a
// Makefile switches by changing the command. The "current key" comes from the stack's outputs.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { findPackageRoot } from "../components/core/packageRoot";
import { RegistryClient, defaultInsecure } from "../components/oci/registry";
import { restoreDisk, progressLine } from "../components/kinds/qcow2Image/cache";
import { pushContainerDisk } from "../components/kinds/qcow2Image/build";
import { QCOW2_KIND } from "../components/kinds/qcow2Image/fields";
import { formatReference, parseReference, pinnedReference, referenceString } from "../components/oci/reference";
import { KIND_ANNOTATION } from "../components/oci/annotations";
import { GitState, readGitState } from "../components/core/gitState";
import { provenanceOf } from "../components/oci/provenance";
import { WarmrunError } from "../components/core/errors";

const USAGE = `usage: npm run qcow2 -- <command> [args] [--artifact NAME] [--stack NAME] [--disk-path PATH]

  get [force]          restore the disk of the stack's current key to $QCOW2_FILE;
                       exit 0 when restored, 1 when it must be built (or with force)
  pull [tag] [file]    restore a tag or reference (default base-qcow2-latest)
  push [file] [tag]    push a qcow2 as a containerDisk (default tag base-qcow2-<git-sha>)
  cache [file]         push as base-qcow2-<git-sha>, and base-qcow2-latest from a clean tree
                       on the default branch

environment:
  QCOW2_FILE           disk file (default bin/output/qcow2/disk.qcow2)
  QCOW2_CACHE_IMAGE    repository, host[:port]/path (default: the artifact's, from the stack outputs)
  QCOW2_CACHE_TAG      tag prefix (default base-qcow2)
  QCOW2_DISK_PATH      disk path inside the image (default /disk/disk.qcow2 on push; on pull the
                       image's annotation, else its first *.qcow2)
  WARMRUN_STACK, WARMRUN_QCOW2_ARTIFACT, WARMRUN_REGISTRY_USERNAME, WARMRUN_REGISTRY_PASSWORD,
  WARMRUN_REGISTRY_INSECURE, WARMRUN_LATEST_BRANCH (default main)`;

// The Pulumi project whose stack outputs name the disk (the `warmrun` command points elsewhere).
const ROOT = process.env.WARMRUN_PULUMI_PROJECT || findPackageRoot(__dirname);

interface Options {
    positional: string[];
    artifact?: string;
    stack?: string;
    diskPath?: string;
}

export function parseArgs(argv: string[]): Options {
    const o: Options = { positional: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) throw new WarmrunError(`${a} needs a value\n${USAGE}`);
            return argv[++i];
        };
        if (a === "--artifact") o.artifact = value();
        else if (a === "--stack") o.stack = value();
        else if (a === "--disk-path") o.diskPath = value();
        else if (a === "-h" || a === "--help") o.positional.unshift("help");
        else if (a.startsWith("--")) throw new WarmrunError(`unknown option ${a}\n${USAGE}`);
        else o.positional.push(a);
    }
    o.artifact ??= process.env.WARMRUN_QCOW2_ARTIFACT;
    o.stack ??= process.env.WARMRUN_STACK;
    o.diskPath ??= process.env.QCOW2_DISK_PATH;
    return o;
}

function log(message: string): void {
    process.stderr.write(`[qcow2] ${message}\n`);
}

/** The stack's per-artifact outputs (`pulumi stack output outputs`), or undefined (said why) when there are none. */
export function stackOutputs(stack: string | undefined, say: (m: string) => void = log): Record<string, any> | undefined {
    let text: string;
    try {
        text = execFileSync("pulumi", ["stack", "output", "outputs", "--json", "--cwd", ROOT, ...(stack ? ["--stack", stack] : [])], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    } catch (e: any) {
        say(`no stack outputs (${String(e.stderr ?? e.message).trim().split("\n").pop()}): run \`npm run up\` first, or set QCOW2_CACHE_IMAGE`);
        return undefined;
    }
    return JSON.parse(text);
}

/** The stack's Qcow2Image outputs: the named artifact, or the only one whose tag is base-qcow2-. */
export function stackDisk(opts: Pick<Options, "stack" | "artifact">, say: (m: string) => void = log): { ref: string; digest: string } | undefined {
    const outputs = stackOutputs(opts.stack, say) as Record<string, { ref: string; digest: string }> | undefined;
    if (!outputs) return undefined;
    if (opts.artifact) {
        if (!outputs[opts.artifact]) throw new WarmrunError(`the stack has no artifact ${opts.artifact}; it has ${Object.keys(outputs).join(", ")}`);
        return outputs[opts.artifact];
    }
    const disks = Object.entries(outputs).filter(([, o]) => /:base-qcow2-[0-9a-f]{24}$/.test(o.ref ?? ""));
    if (disks.length > 1) throw new WarmrunError(`the stack has ${disks.length} Qcow2Image artifacts (${disks.map(([n]) => n).join(", ")}): pick one with --artifact`);
    return disks[0]?.[1];
}

export function clientFor(host: string): RegistryClient {
    const insecure = process.env.WARMRUN_REGISTRY_INSECURE ? process.env.WARMRUN_REGISTRY_INSECURE === "true" : defaultInsecure(host);
    return new RegistryClient({ host, insecure, username: process.env.WARMRUN_REGISTRY_USERNAME, password: process.env.WARMRUN_REGISTRY_PASSWORD });
}

/** The repository to pull from or push to: QCOW2_CACHE_IMAGE, else the stack's artifact. */
function repositoryOf(opts: Options): { host: string; repository: string } {
    const image = process.env.QCOW2_CACHE_IMAGE;
    if (image) {
        const { host, repository } = parseReference(image.replace(/[:@][^/]*$/, ""));
        return { host, repository };
    }
    const disk = stackDisk(opts);
    if (!disk) throw new WarmrunError("no repository: set QCOW2_CACHE_IMAGE (host[:port]/path) or bring the stack up");
    const { host, repository } = parseReference(disk.ref);
    return { host, repository };
}

export function progressReporter(): ((done: number, total: number) => void) | undefined {
    if (!process.stderr.isTTY) return undefined;
    let last = 0;
    return (done, total) => {
        const now = Date.now();
        if (now - last < 200 && done < total) return;
        last = now;
        process.stderr.write(`\r${progressLine(done, total)}`);
        if (done >= total) process.stderr.write("\n");
    };
}

async function pull(host: string, repository: string, reference: string, file: string, opts: Options): Promise<boolean> {
    const ref = referenceString({ host, repository, reference });
    log(`pulling ${ref}`);
    const r = await restoreDisk(clientFor(host), repository, reference, file, { diskPath: opts.diskPath, progress: progressReporter() });
    if (!r.found) {
        log(`${ref} is not in the registry`);
        return false;
    }
    log(`restored ${r.diskPath} of ${pinnedReference({ host, repository, digest: r.digest! })} to ${file} (${r.bytes} bytes, sha256 ${r.sha256})`);
    return true;
}

async function push(file: string, tags: string[], opts: Options, git: GitState): Promise<void> {
    if (!fs.existsSync(file)) throw new WarmrunError(`QCOW2 file not found: ${file}: build it first, or give its path`);
    const { host, repository } = repositoryOf(opts);
    const client = clientFor(host);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "warmrun-qcow2-push-"));
    try {
        const [first, ...rest] = tags;
        const diskPath = opts.diskPath ?? "/disk/disk.qcow2";
        const pushed = await pushContainerDisk(client, repository, first, file, diskPath, scratch, { [KIND_ANNOTATION]: QCOW2_KIND }, provenanceOf(git));
        log(`pushed ${formatReference({ host, repository, tag: first })}@${pushed.digest} (disk sha256 ${pushed.diskSha256})`);
        const m = await client.getManifest(repository, pushed.digest);
        for (const tag of rest) {
            await client.putManifest(repository, tag, m!.mediaType, m!.body);
            log(`tagged ${formatReference({ host, repository, tag })}`);
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

export async function main(argv: string[]): Promise<number> {
    const opts = parseArgs(argv);
    const [command = "get", a1, a2] = opts.positional;
    // npm runs scripts in the project; paths and the commit are the caller's (npm's INIT_CWD).
    const callerDir = process.env.INIT_CWD || process.cwd();
    const file = path.resolve(callerDir, process.env.QCOW2_FILE || "bin/output/qcow2/disk.qcow2");
    const local = (f: string | undefined) => (f === undefined ? file : path.resolve(callerDir, f));
    const prefix = `${process.env.QCOW2_CACHE_TAG || "base-qcow2"}-`;
    const git = readGitState(callerDir);
    const commitTag = `${prefix}${git.shortCommit ?? "unknown"}`;
    switch (command) {
        case "get": {
            if (a1 === "force" || a1 === "true") {
                log("rebuild requested, not using the cache");
                return 1;
            }
            const disk = stackDisk(opts);
            if (!disk) {
                if (!process.env.QCOW2_CACHE_IMAGE) return 1;
                // No stack to say the key: the commit tag, as the shell script did.
                const { host, repository } = repositoryOf(opts);
                return (await pull(host, repository, commitTag, local(a2), opts)) ? 0 : 1;
            }
            const { host, repository, reference } = parseReference(disk.ref);
            const client = clientFor(host);
            const digest = await client.resolveTag(repository, reference);
            if (!digest) {
                log(`${disk.ref} (the current key) is not in the registry: build it (npm run up)`);
                return 1;
            }
            return (await pull(host, repository, reference, local(a2), opts)) ? 0 : 1;
        }
        case "pull": {
            const target = a1 ?? `${prefix}latest`;
            if (target.includes("/")) {
                const { host, repository, reference } = parseReference(target);
                return (await pull(host, repository, reference, local(a2), opts)) ? 0 : 1;
            }
            const { host, repository } = repositoryOf(opts);
            return (await pull(host, repository, target, local(a2), opts)) ? 0 : 1;
        }
        case "push":
            await push(local(a1), [a2 ?? commitTag], opts, git);
            return 0;
        case "cache": {
            const latestBranch = process.env.WARMRUN_LATEST_BRANCH ?? "main";
            const tags = [commitTag];
            if (git.clean && latestBranch && git.branch === latestBranch) tags.push(`${prefix}latest`);
            else log(`not tagging ${prefix}latest: ${git.clean ? `branch ${git.branch ?? "unknown"} is not ${latestBranch || "set"}` : "the tree is dirty"}`);
            await push(local(a1), tags, opts, git);
            return 0;
        }
        case "help":
            process.stdout.write(USAGE + "\n");
            return 0;
        default:
            process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
            return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`[qcow2] ${e instanceof WarmrunError ? e.message : e.stack ?? e}\n`);
            process.exit(2);
        },
    );
}
