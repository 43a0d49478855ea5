// What `warmrun --help` and `warmrun <command> --help` print.

export const HELP = `usage: warmrun <command> [--stack NAME] [arguments]

warmrun builds a repository's CI artifacts (images, dependency images, disks, ISOs, appliances) only
when their inputs change, and adopts what the registry already holds. Run it in the repository:
the stack's config is Pulumi.<stack>.yaml there, and every path in it is relative to it.

commands:
  up         build what changed, adopt what the registry has (pulumi up)
  preview    say what an up would build, adopt or keep (pulumi preview)
  report     the cache report: hit or miss per artifact, why, and the expected cost
  outputs    stack outputs as CI variables ($GITHUB_OUTPUT, $GITHUB_ENV, dotenv)
  stats      the cache's history: hit rate, builds, time saved, per artifact and day
  gc         retention: delete the registry's old keys no stack pins (a dry run unless --yes)
  downloads  run a command and count what it downloaded; fail a warm run that downloads
  qcow2      restore or push a qcow2 disk cached as a containerDisk
  registry   start, stop or check the local registry on 127.0.0.1
  pulumi     any pulumi command on the stack: warmrun pulumi -- config set ...

The stack is --stack NAME, else $WARMRUN_STACK, else the repository's only Pulumi.<stack>.yaml.
State lives in .warmrun/state unless PULUMI_BACKEND_URL names another backend; the Pulumi
engine is the one on PATH at the pinned version, else built once into ~/.cache/warmrun.
warmrun <command> --help says more: its options, output formats and exit codes.
Exit codes of every command: 0 success, 1 a problem it names, 2 bad arguments; the rest per command.
`;

/** One command's help: what it does, its options, what it writes where, and its exit codes. */
export interface CommandHelp {
    usage: string;
    /** What the command does. */
    text: string;
    /** [option, what it does]; a command without options says so. */
    options: [string, string][];
    /** What it writes, in which formats, and where. */
    output: string;
    /** [code, meaning] */
    exitCodes: [string, string][];
}

const BAD_ARGS: [string, string] = ["2", "bad arguments (the usage line says what is wrong)"];
const WARMRUN_ERROR: [string, string] = ["1", "a problem warmrun names with its fix (a stack file, the engine, the registry)"];
const STACK: [string, string] = ["--stack NAME", "the stack (else $WARMRUN_STACK, else the repository's only Pulumi.<stack>.yaml)"];

export const COMMAND_HELP: Record<string, CommandHelp> = {
    up: {
        usage: "warmrun up [--stack NAME] [pulumi up flags, e.g. --diff --skip-preview --expect-no-changes]",
        text:
            "Creates the stack on first use, starts the local registry when warmrun:registry is a loopback\n" +
            "host (any port), then runs `pulumi up --yes`: artifacts whose key changed are built (or adopted\n" +
            "when the registry already holds the key), unchanged ones are kept.",
        options: [STACK, ["pulumi up flags", "passed to `pulumi up` as they are (after -- or not)"]],
        output: "The engine's progress on the terminal; the stack outputs (pinned references) in the state, read with\n`warmrun outputs`; one journal line per build or adoption in .warmrun/journal.jsonl (`warmrun stats`).",
        exitCodes: [["0", "the up succeeded"], WARMRUN_ERROR, BAD_ARGS, ["other", "pulumi's own exit code (255 when the up failed; 128+n when killed by signal n)"]],
    },
    preview: {
        usage: "warmrun preview [--stack NAME] [pulumi preview flags, e.g. --diff --json]",
        text: "`pulumi preview` of the stack: builds nothing, says which artifacts would be built, adopted or kept.",
        options: [STACK, ["pulumi preview flags", "passed to `pulumi preview` (--json: the engine's JSON on standard output)"]],
        output: "The engine's preview on the terminal (JSON with --json).",
        exitCodes: [["0", "the preview succeeded"], WARMRUN_ERROR, BAD_ARGS, ["other", "pulumi's own exit code (255 when the preview failed)"]],
    },
    report: {
        usage:
            "warmrun report [--stack NAME] [--format table|markdown|json] [--output FILE [--append]] [--fail-on-miss]\n" +
            "                      [--preview-json FILE] [--journal FILE]",
        text:
            "Runs a preview and prints one row per artifact: status (hit, miss, new, removed), action (keep, adopt,\n" +
            "build, delete), old and new key, why it changed, and the seconds of its last build.",
        options: [
            STACK,
            ["--format F", "table (default), markdown (for $GITHUB_STEP_SUMMARY), json"],
            ["--output FILE", "write the report there (--append to append); the summary line still goes to the terminal"],
            ["--fail-on-miss", "exit 3 when an artifact is a miss or new"],
            ["--preview-json F", "read a saved `pulumi preview --json --show-sames` instead of running one"],
            ["--journal FILE", "the build journal (default .warmrun/journal.jsonl)"],
        ],
        output: "The report on standard output, or in FILE: a table, Markdown (a heading, a summary line, a table) or JSON\n({stack, summary, totals, rows}).",
        exitCodes: [["0", "written"], ["1", "the preview failed"], BAD_ARGS, ["3", "a miss with --fail-on-miss"]],
    },
    outputs: {
        usage: "warmrun outputs [--stack NAME] [--format github-output|github-env|dotenv] [--output FILE] [--artifacts a,b] [--fields pinned,ref,digest,key,cacheHit]",
        text:
            "The stack's outputs as CI variables: WARMRUN_REGISTRY, WARMRUN_<ARTIFACT> (the digest-pinned reference),\n" +
            "WARMRUN_<ARTIFACT>_REF, _DIGEST, _KEY, _CACHE_HIT. Secret outputs are left out.",
        options: [
            STACK,
            ["--format F", "github-output (default under GitHub Actions), github-env, dotenv (default elsewhere)"],
            ["--output F", "write there instead (a dotenv file is replaced, GitHub files appended to)"],
            ["--artifacts a,b", "only these artifacts (default: all)"],
            ["--fields f,g", "only these fields: pinned, ref, digest, key, cacheHit (default: all)"],
        ],
        output:
            "github-output: appended to $GITHUB_OUTPUT (the step's outputs); github-env: appended to $GITHUB_ENV (the job's\n" +
            "later steps' environment); both NAME=value lines, NAME<<DELIMITER for multi-line values. dotenv: NAME=value lines\n" +
            "(quoted where needed) on standard output, only the variables.",
        exitCodes: [["0", "written"], ["1", "the stack's outputs cannot be read (no up yet, the engine failed)"], BAD_ARGS],
    },
    stats: {
        usage: "warmrun stats [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]] [--shared HOST/REPOSITORY [--push]] [--stack NAME]",
        text:
            "Reads the build journal and reports per artifact and in total: runs, builds and their time, adoptions, hit rate\n" +
            "(adoptions / (builds + adoptions)), time saved (each adoption priced at the artifact's last build before it) and\n" +
            "bytes not downloaded; then the same per day.",
        options: [
            ["--runs N", "only the last N runs (a run: one up's entries)"],
            ["--days N", "only the entries of the last N days (with --runs: of those runs)"],
            ["--format F", "table (default), json, markdown"],
            ["--journal FILE", "the journal (default .warmrun/journal.jsonl, or $WARMRUN_JOURNAL)"],
            ["--output FILE", "write there (--append to append, e.g. to $GITHUB_STEP_SUMMARY)"],
            ["--shared H/R", "the stack's journal in the registry (tag journal-<stack> of repository R on host H), with the local entries it lacks"],
            ["--push", "with --shared: append the local entries it lacks first (read, add, push, read back; again when another runner's push replaced it)"],
            STACK,
        ],
        output: "A table, JSON ({window, artifacts, total, days}), or Markdown: the tables and two Mermaid xychart-beta charts\n(hit rate per day, build minutes per day), on standard output or in FILE.",
        exitCodes: [["0", "written"], ["1", "the journal cannot be read, or the registry's journal cannot be read or written"], BAD_ARGS],
    },
    gc: {
        usage: "warmrun gc [--stack a,b] [--keep N] [--keep-aliases N] [--grace 24h] [--json] [--yes] [--journal FILE] [--seen-file FILE] [--state-file FILE,FILE]",
        text:
            "Retention of the stacks' artifact repositories: keeps what any of the stacks pins, the newest --keep keys and\n" +
            "--keep-aliases git aliases per artifact, and anything a tag has named for less than --grace; lists the rest and,\n" +
            "with --yes, deletes those manifests (the registry's own garbage collection then frees their blobs).",
        options: [
            ["--stack a,b", "the stacks whose state pins artifacts (default: the repository's stack)"],
            ["--keep N", "newest keys kept per artifact"],
            ["--keep-aliases N", "newest git alias tags kept per artifact"],
            ["--grace D", "keep what a tag has named for less than D (e.g. 24h, 30m)"],
            ["--yes", "delete; without it a dry run"],
            ["--json", "the plan (and what was deleted) as JSON"],
            ["--journal FILE", "the journal that orders builds (default .warmrun/journal.jsonl, or $WARMRUN_JOURNAL)"],
            ["--seen-file FILE", "when gc first saw each tag (default .warmrun/gc-seen.json)"],
            ["--state-file F,G", "saved `pulumi stack export` output instead of asking the stacks"],
        ],
        output: "Per artifact, each manifest with keep or delete and why, then the totals and the bytes that become reclaimable; JSON with --json.",
        exitCodes: [["0", "planned (or deleted)"], ["1", "a stack or the registry failed"], BAD_ARGS, ["4", "the registry refuses deletes (nothing deleted)"]],
    },
    downloads: {
        usage: "warmrun downloads [--report FILE.md] [--json FILE] [--label NAME] [--max-count N] [--max-bytes N] -- <command...>",
        text:
            "Runs <command> with its output passed through byte for byte, counts what it downloaded (apt, debootstrap,\n" +
            "cargo, rustup, makepkg, pacman, git, dnf/yum, pip, npm, go, curl, wget) and writes the report.",
        options: [
            ["--report FILE", "the Markdown report (totals per tool, top items, warm-run minimum, suggestions)"],
            ["--json FILE", "the same as JSON"],
            ["--label NAME", "what the report calls this run (default: the command)"],
            ["--max-count N", "exit 3 when more than N items were downloaded (0: a warm run downloads nothing)"],
            ["--max-bytes N", "exit 3 when more than N bytes were downloaded (suffixes k, M, G, KiB, MiB, GiB)"],
        ],
        output: "The command's own output unchanged; the reports in the files given (Markdown, JSON); a summary line on stderr.",
        exitCodes: [["0", "the command succeeded within the thresholds"], BAD_ARGS, ["3", "over a threshold"], ["127", "the command cannot be started"], ["other", "the command's own status when it fails"]],
    },
    qcow2: {
        usage: "warmrun qcow2 get [force] | pull [tag|ref] [file] | push [file] [tag] | cache [file]  [--stack NAME] [--artifact NAME] [--disk-path PATH]",
        text:
            "The qcow2 containerDisk cache for Makefiles: `get` restores the disk of the stack's current key to\n" +
            "$QCOW2_FILE; pull, push and cache work by tag or reference.",
        options: [
            STACK,
            ["--artifact NAME", "the Qcow2Image artifact (default: the stack's only one, or $WARMRUN_QCOW2_ARTIFACT)"],
            ["--disk-path PATH", "the disk's path inside the image"],
            ["environment", "QCOW2_FILE, QCOW2_CACHE_IMAGE, QCOW2_CACHE_TAG, QCOW2_DISK_PATH, WARMRUN_REGISTRY_USERNAME, WARMRUN_REGISTRY_PASSWORD, WARMRUN_REGISTRY_INSECURE, WARMRUN_LATEST_BRANCH (see the README)"],
        ],
        output: "The disk file (get, pull) or the pushed containerDisk tags (push, cache); [qcow2] lines and progress on stderr.",
        exitCodes: [["0", "restored or pushed"], ["1", "get: not in the cache, build it (or `get force`)"], ["2", "an error"]],
    },
    registry: {
        usage: "warmrun registry [start|stop|status] [PORT]",
        text: "The local registry (Debian's docker-registry) on 127.0.0.1:PORT (default 5000), data in ~/.cache/warmrun/registry.\n`warmrun up` starts it itself for a loopback warmrun:registry.",
        options: [["start|stop|status", "start it (nothing when one serves), stop the one it started, or say whether one serves"], ["PORT", "the port on 127.0.0.1 (default 5000)"]],
        output: "One line on the terminal: serving or not, started, stopped.",
        exitCodes: [["0", "done; status: one serves"], ["1", "status: none serves; or it could not start"], BAD_ARGS],
    },
    pulumi: {
        usage: "warmrun pulumi [--stack NAME] -- <pulumi arguments>",
        text:
            "Runs the pinned engine on the stack (selected, created on first use) with the repository's stack file,\n" +
            "e.g. warmrun pulumi -- config set --secret warmrun:registryPassword \"$TOKEN\"\n" +
            "     warmrun pulumi -- up --expect-no-changes --yes\n" +
            "     warmrun pulumi -- stack output --json",
        options: [STACK, ["-- <pulumi arguments>", "everything after -- goes to pulumi"]],
        output: "pulumi's own output, as it writes it.",
        exitCodes: [WARMRUN_ERROR, BAD_ARGS, ["other", "pulumi's own exit code (0 success, 255 failure)"]],
    },
};

/** `warmrun <command> --help`: usage, what it does, options, output, exit codes. */
export function commandHelp(name: string): string {
    const h = COMMAND_HELP[name];
    const list = (rows: [string, string][]) => {
        const width = Math.max(...rows.map(([a]) => a.length));
        return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join("\n");
    };
    return [`usage: ${h.usage}`, "", h.text, "", "Options:", list(h.options), "", "Output:", h.output.replace(/^/gm, "  "), "", "Exit codes:", list(h.exitCodes), ""].join("\n");
}
