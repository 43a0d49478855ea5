// What `warmrun --help` and `warmrun <command> --help` print.

export const HELP = `usage: warmrun <command> [--stack NAME] [arguments]

warmrun builds a repository's CI artifacts (images, dependency images, disks, ISOs, appliances) only
when their inputs change, and adopts what the registry already holds. Run it in the repository:
the stack's config is Pulumi.<stack>.yaml there, and every path in it is relative to it.

commands:
  up         build what changed, adopt what the registry has (pulumi up)
  preview    say what an up would build, adopt or keep (pulumi preview)
  report     the cache report: hit or miss per artifact, why, and the expected cost
  outputs    stack outputs as CI variables (GitHub output/env files, dotenv)
  stats      the cache's history: hit rate, builds, time saved, per artifact and day
  downloads  run a command and count what it downloaded; fail a warm run that downloads
  qcow2      restore or push a qcow2 disk cached as a containerDisk
  registry   start, stop or check the local registry on 127.0.0.1
  pulumi     any pulumi command on the stack: warmrun pulumi -- config set ...

The stack is --stack NAME, else $WARMRUN_STACK, else the repository's only Pulumi.<stack>.yaml.
State lives in .warmrun/state unless PULUMI_BACKEND_URL names another backend; the Pulumi
engine is the one on PATH at the pinned version, else built once into ~/.cache/warmrun.
warmrun <command> --help says more.
`;

export const COMMAND_HELP: Record<string, { usage: string; text: string }> = {
    up: {
        usage: "warmrun up [--stack NAME] [pulumi up flags, e.g. --diff --skip-preview --expect-no-changes]",
        text:
            "Creates the stack on first use, starts the local registry when warmrun:registry is a loopback\n" +
            "host (any port), then runs `pulumi up --yes`: artifacts whose key changed are built (or adopted\n" +
            "when the registry already holds the key), unchanged ones are kept.",
    },
    preview: {
        usage: "warmrun preview [--stack NAME] [pulumi preview flags, e.g. --diff --json]",
        text: "`pulumi preview` of the stack: builds nothing, says which artifacts would be built, adopted or kept.",
    },
    report: {
        usage:
            "warmrun report [--stack NAME] [--format table|markdown|json] [--output FILE [--append]] [--fail-on-miss]\n" +
            "                      [--preview-json FILE] [--journal FILE]",
        text:
            "Runs a preview and prints one row per artifact: status (hit, miss, new, removed), action (keep, adopt,\n" +
            "build, delete), old and new key, why it changed, and the seconds of its last build.\n" +
            "  --format F       table (default), markdown (for $GITHUB_STEP_SUMMARY), json\n" +
            "  --output FILE    write the report there (--append to append); the summary line still goes to the terminal\n" +
            "  --fail-on-miss   exit 3 when an artifact is a miss or new\n" +
            "  --preview-json F read a saved `pulumi preview --json --show-sames` instead of running one\n" +
            "  --journal FILE   the build journal (default .warmrun/journal.jsonl)\n" +
            "Exit codes: 0 written, 1 the preview failed, 2 bad arguments, 3 a miss with --fail-on-miss.",
    },
    outputs: {
        usage: "warmrun outputs [--stack NAME] [--format github-output|github-env|dotenv] [--output FILE] [--artifacts a,b] [--fields pinned,ref,digest,key,cacheHit]",
        text:
            "The stack's outputs as CI variables: WARMRUN_REGISTRY, WARMRUN_<ARTIFACT> (the digest-pinned reference),\n" +
            "WARMRUN_<ARTIFACT>_REF, _DIGEST, _KEY, _CACHE_HIT. Secret outputs are left out.\n" +
            "  --format F   github-output (default under GitHub Actions: appends to $GITHUB_OUTPUT), github-env\n" +
            "               (appends to $GITHUB_ENV), dotenv (default elsewhere: standard output, only the variables)\n" +
            "  --output F   write there instead (a dotenv file is replaced, GitHub files appended to)",
    },
    stats: {
        usage: "warmrun stats [--runs N] [--days N] [--format table|json|markdown] [--journal FILE] [--output FILE [--append]]",
        text:
            "Reads the build journal (.warmrun/journal.jsonl, or $WARMRUN_JOURNAL) and reports per artifact and in total:\n" +
            "runs, builds and their time, adoptions, hit rate (adoptions / (builds + adoptions)), time saved (each adoption\n" +
            "priced at the artifact's last build before it) and bytes not downloaded; then the same per day.\n" +
            "  --runs N / --days N  only the last N runs (an up's entries) / the last N days (both: the runs' entries of those days)\n" +
            "  --format F           table (default), json, markdown (tables and Mermaid charts: hit rate and build minutes per day)\n" +
            "  --output FILE        write there (--append to append, e.g. to $GITHUB_STEP_SUMMARY)\n" +
            "Exit codes: 0 written, 1 the journal cannot be read, 2 bad arguments.",
    },
    downloads: {
        usage: "warmrun downloads [--report FILE.md] [--json FILE] [--label NAME] [--max-count N] [--max-bytes N] -- <command...>",
        text:
            "Runs <command> with its output passed through byte for byte, counts what it downloaded (apt, debootstrap,\n" +
            "cargo, rustup, makepkg, pacman, git, dnf/yum, pip, npm, go, curl, wget) and writes the report.\n" +
            "  --max-count N / --max-bytes N   exit 3 when the command downloaded more (0: a warm run downloads nothing)\n" +
            "Exit status: the command's own when it fails, 3 over a threshold, 2 bad arguments, 127 not found.",
    },
    qcow2: {
        usage: "warmrun qcow2 get [force] | pull [tag|ref] [file] | push [file] [tag] | cache [file]  [--stack NAME] [--artifact NAME] [--disk-path PATH]",
        text:
            "The qcow2 containerDisk cache for Makefiles: `get` restores the disk of the stack's current key to\n" +
            "$QCOW2_FILE (exit 0 restored, 1 build it, 2 an error); pull, push and cache work by tag.\n" +
            "Environment: QCOW2_FILE, QCOW2_CACHE_IMAGE, QCOW2_CACHE_TAG, QCOW2_DISK_PATH, WARMRUN_REGISTRY_USERNAME,\n" +
            "WARMRUN_REGISTRY_PASSWORD, WARMRUN_REGISTRY_INSECURE, WARMRUN_LATEST_BRANCH (see the README).",
    },
    registry: {
        usage: "warmrun registry [start|stop|status] [PORT]",
        text: "The local registry (Debian's docker-registry) on 127.0.0.1:PORT (default 5000), data in ~/.cache/warmrun/registry.\n`warmrun up` starts it itself for a loopback warmrun:registry.",
    },
    pulumi: {
        usage: "warmrun pulumi [--stack NAME] -- <pulumi arguments>",
        text:
            "Runs the pinned engine on the stack (selected, created on first use) with the repository's stack file,\n" +
            "e.g. warmrun pulumi -- config set --secret warmrun:registryPassword \"$TOKEN\"\n" +
            "     warmrun pulumi -- up --expect-no-changes --yes\n" +
            "     warmrun pulumi -- stack output --json",
    },
};
