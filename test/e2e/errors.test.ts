// End-to-end: a table of failures a user can cause or meet (bad config, files, Cargo recipes,
// registries, credentials from the stack config and from the files `docker login` and `podman
// login` write, missing tools, a build or a push failing inside the provider), each run through
// the real engine on a stack whose config is swapped per case. For each: a non-zero exit, one
// error message (once, in the engine's diagnostics), no stack trace, the artifact and the key or
// file named, nothing tagged in the registry, the state unchanged; at the end a preview of the good
// config still works and finds nothing to change. Two stacks share the cases (previews run on both
// at once); every case the preview can know is a preview.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { execFileSync } from "child_process";
import YAML from "yaml";
import { EngineSession, engineDir } from "../support/engine";
import { freePort, htpasswdFile, startRegistry, TestRegistry } from "../support/registry";
import { tempDir, removeTempDirs, writeTree } from "../support/tmp";
import { LocalServers } from "../support/servers";
import { isValidRepository } from "../../components/oci/registry";

/** What a case runs in: the hosts and files of this test run. */
interface World {
    /** The registry every good config uses: a proxy in front of a real registry, which can refuse manifests or go away. */
    registry: string;
    /** A real registry that wants credentials (htpasswd). */
    authRegistry: string;
    /** Servers that are not registries: HTML to everything, JSON that is no manifest, 404 to everything. */
    html: string;
    json: string;
    notFound: string;
    /** A 127.0.0.1 port nothing listens on. */
    dead: string;
    inputs: string;
    work: string;
    /** `pulumi config set --secret` of a wrong password, as the config file stores it. */
    wrongPassword: unknown;
    /** PATH with every command of the machine's PATH but buildah. */
    pathWithoutBuildah: string;
    /** The engine's directory first, then the machine's PATH. */
    path: string;
}

interface Case {
    name: string;
    /** The stack's warmrun:* settings (cacheDir is added). */
    config: (w: World) => Record<string, unknown>;
    /** The one message, as a pattern. */
    message: RegExp;
    /** What the message must name: the artifact's key, the config key, the file. */
    names: (w: World) => string[];
    /** Text that must not appear anywhere (a password). */
    absent?: string[];
    command?: "preview" | "up" | "refresh";
    env?: (w: World) => NodeJS.ProcessEnv;
    wrap?: string[];
    /** Runs around the command (e.g. the proxy refusing manifests). */
    around?: (run: () => Promise<void>) => Promise<void>;
}

const KEY = "warmrun:artifacts";
const WRONG = "not-the-password";
const bundle = (w: World, dir: string, extra: Record<string, unknown> = {}) => ({ kind: "FileBundle", root: path.join(w.inputs, dir), ...extra });
const good = (w: World) => ({ good: bundle(w, "good") });
const on = (w: World, artifacts: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ "warmrun:registry": `${w.registry}/e`, "warmrun:artifacts": artifacts, ...extra });
const onAuth = (w: World, extra: Record<string, unknown> = {}) => ({ ...on(w, good(w)), "warmrun:registry": `${w.authRegistry}/e`, ...extra });
const deps = (w: World, dir: string) => on(w, { deps: { kind: "CargoDepsImage", workspace: path.join(w.inputs, "cargo", dir) } });

// Capabilities without which root meets file permissions like any user (setpriv is util-linux's).
const WITHOUT_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"];

let proxyMode: "pass" | "refuse-manifests" = "pass";
let proxyDown: (() => Promise<void>) | undefined;
let proxyUp: (() => Promise<void>) | undefined;

const CASES: Case[] = [
    // --- config
    { name: "unknown config key", config: (w) => ({ ...on(w, good(w)), "warmrun:registy": "x" }), message: /unknown config key warmrun:registy \(did you mean registry\?\)/, names: () => ["warmrun:registy"] },
    { name: "unknown field", config: (w) => on(w, { b: bundle(w, "good", { roots: "x" }) }), message: /warmrun:artifacts\.b: unknown field roots \(did you mean root\?\)/, names: () => [`${KEY}.b`, "roots"] },
    { name: "wrong type", config: (w) => on(w, { b: bundle(w, "good", { include: "*.txt" }) }), message: /warmrun:artifacts\.b\.include must be a list of strings/, names: () => [`${KEY}.b.include`] },
    { name: "missing required field", config: (w) => on(w, { b: { kind: "FileBundle" } }), message: /warmrun:artifacts\.b\.root is missing: directory of the files/, names: () => [`${KEY}.b.root`] },
    { name: "unknown kind", config: (w) => on(w, { b: { kind: "FileBundel", root: "x" } }), message: /warmrun:artifacts\.b\.kind "FileBundel" is not a known kind \(did you mean FileBundle\?\): use one of .*FileBundle/, names: () => [`${KEY}.b.kind`] },
    { name: "bad artifact name", config: (w) => on(w, { "-Tools_": bundle(w, "good") }), message: /warmrun:artifacts\.-Tools_: the name "-Tools_" cannot be a repository name: .*\(e\.g\. tools\)/, names: () => [`${KEY}.-Tools_`] },
    { name: "upstream cycle", config: (w) => on(w, { a: bundle(w, "good", { upstream: ["b"] }), b: bundle(w, "good", { upstream: ["a"] }) }), message: /warmrun:artifacts has a cycle: a -> b -> a; .*remove one upstream link/, names: () => [KEY, "a -> b"] },
    { name: "unknown upstream", config: (w) => on(w, { ...good(w), b: bundle(w, "good", { upstream: ["godo"] }) }), message: /warmrun:artifacts\.b\.upstream names "godo", which is not an artifact \(did you mean good\?\)/, names: () => [`${KEY}.b.upstream`] },
    { name: "plaintext password", config: (w) => on(w, good(w), { "warmrun:registryUsername": "ci", "warmrun:registryPassword": "hunter2-plain" }), message: /warmrun:registryPassword is stored in plaintext: set it with `pulumi config set --secret warmrun:registryPassword`/, names: () => ["warmrun:registryPassword"], absent: ["hunter2-plain"] },
    // Pulumi.yaml declares warmrun:registry without a default, so the engine itself refuses the run.
    { name: "missing registry", config: (w) => ({ "warmrun:artifacts": good(w) }), message: /Stack 'errors-[ab]' is missing configuration value 'warmrun:registry'/, names: () => ["warmrun:registry"] },
    { name: "registry with a scheme", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": `http://${w.registry}` }), message: /warmrun:registry "http:\/\/[^"]+" is not a registry reference: write host\[:port\]\[\/namespace\]/, names: () => ["warmrun:registry"] },
    { name: "unknown builder", config: (w) => on(w, good(w), { "warmrun:builder": "podman" }), message: /warmrun:builder "podman" is not one of auto, docker, buildah/, names: () => ["warmrun:builder"] },
    // --- files
    { name: "missing directory", config: (w) => on(w, { b: bundle(w, "nope") }), message: /warmrun:artifacts\.b\.root: directory \S+\/nope does not exist: create it or fix the path/, names: (w) => [`${KEY}.b.root`, path.join(w.inputs, "nope")] },
    { name: "a file where a directory is expected", config: (w) => on(w, { b: bundle(w, "afile") }), message: /warmrun:artifacts\.b\.root: \S+\/afile is a file, not a directory: give the directory/, names: (w) => [`${KEY}.b.root`, path.join(w.inputs, "afile")] },
    { name: "a directory where a file is expected", config: (w) => on(w, { img: { kind: "BaseImage", containerfile: path.join(w.inputs, "cfdir/Containerfile") } }), message: /warmrun:artifacts\.img\.containerfile: \S+\/cfdir\/Containerfile is a directory, not a regular file: give the path of a file in it/, names: (w) => [`${KEY}.img.containerfile`, path.join(w.inputs, "cfdir/Containerfile")] },
    { name: "a dangling symbolic link", config: (w) => on(w, { img: { kind: "BaseImage", containerfile: path.join(w.inputs, "dangling") } }), message: /warmrun:artifacts\.img\.containerfile: file \S+\/dangling is a symbolic link to gone\/Containerfile, which does not exist: fix the link or the path/, names: (w) => [`${KEY}.img.containerfile`, path.join(w.inputs, "dangling")] },
    { name: "a FIFO where a file is expected", config: (w) => on(w, { img: { kind: "BaseImage", containerfile: path.join(w.inputs, "fifo") } }), message: /warmrun:artifacts\.img\.containerfile: \S+\/fifo is a FIFO \(named pipe\), not a regular file/, names: (w) => [`${KEY}.img.containerfile`, path.join(w.inputs, "fifo")] },
    {
        name: "an unreadable Containerfile (without root's capabilities)",
        config: (w) => on(w, { img: { kind: "BaseImage", containerfile: path.join(w.inputs, "locked/Containerfile") } }),
        wrap: WITHOUT_DAC,
        message: /warmrun:artifacts\.img\.containerfile: file \S+\/locked\/Containerfile cannot be read \(permission denied\): make it readable by the user running pulumi/,
        names: (w) => [`${KEY}.img.containerfile`, path.join(w.inputs, "locked/Containerfile")],
    },
    {
        name: "an unreadable file in a context (without root's capabilities)",
        config: (w) => on(w, { b: bundle(w, "unreadable") }),
        wrap: WITHOUT_DAC,
        message: /warmrun:artifacts\.b: cannot read \S+\/unreadable\/secret\.txt \(permission denied\): make it readable by the user running pulumi .*or leave it out of the artifact's files with an ignore rule/,
        names: (w) => [`${KEY}.b`, path.join(w.inputs, "unreadable/secret.txt")],
    },
    {
        name: "an unreadable directory in a context (without root's capabilities)",
        config: (w) => on(w, { b: bundle(w, "unlistable") }),
        wrap: WITHOUT_DAC,
        message: /warmrun:artifacts\.b: cannot list the directory \S+\/unlistable\/private \(permission denied\)/,
        names: (w) => [`${KEY}.b`, path.join(w.inputs, "unlistable/private")],
    },
    { name: "an ignore file that is a directory", config: (w) => on(w, { b: bundle(w, "ignoredir", { ignoreFile: ".warmrunignore" }) }), message: /warmrun:artifacts\.b\.ignoreFile: \.warmrunignore is a directory, not a regular file/, names: () => [`${KEY}.b.ignoreFile`, ".warmrunignore"] },
    { name: "no file selected", config: (w) => on(w, { b: bundle(w, "good", { include: ["*.nothing"] }) }), message: /warmrun:artifacts\.b: no file under \S+\/good is selected \(check include and ignore\)/, names: (w) => [`${KEY}.b`, path.join(w.inputs, "good")] },
    // --- Cargo recipes (path crates, and itoa whose index entry is in the stacks' caches: no network; cargo's own verdicts are checked in before())
    { name: "Cargo.toml that is not TOML", config: (w) => deps(w, "badtoml"), message: /warmrun:artifacts\.deps: \S+\/badtoml\/Cargo\.toml is not valid TOML \(line 1, column \d+: .*\); fix the syntax there/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/badtoml/Cargo.toml")] },
    { name: "a missing Cargo.lock", config: (w) => deps(w, "nolock"), message: /warmrun:artifacts\.deps: \S+\/nolock\/Cargo\.lock is missing: run `cargo generate-lockfile` and commit it/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/nolock/Cargo.lock")] },
    { name: "a lock without a dependency", config: (w) => deps(w, "lockmissing"), message: /warmrun:artifacts\.deps: \S+\/lockmissing\/Cargo\.lock has no locked package satisfying app's dependency util .*run `cargo update -p util` \(or `cargo generate-lockfile`\) and commit Cargo\.lock/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/lockmissing/Cargo.lock")] },
    { name: "a lock at a version the manifest refuses", config: (w) => deps(w, "lockold"), message: /warmrun:artifacts\.deps: \S+\/lockold\/Cargo\.lock has no locked package satisfying app's dependency itoa 2 \(\S+\/lockold\/Cargo\.toml\); run `cargo update -p itoa` \(or `cargo generate-lockfile`\) and commit Cargo\.lock/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/lockold/Cargo.lock")] },
    { name: "a lock without the workspace's member", config: (w) => deps(w, "locknomember"), message: /warmrun:artifacts\.deps: \S+\/locknomember\/Cargo\.lock has no entry for the workspace member app .*run `cargo generate-lockfile` and commit Cargo\.lock/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/locknomember/Cargo.lock")] },
    { name: "a workspace member that is missing", config: (w) => deps(w, "nomember"), message: /warmrun:artifacts\.deps: \S+\/nomember\/crates\/gone\/Cargo\.toml is missing but \[workspace\]\.members in Cargo\.toml needs it/, names: (w) => [`${KEY}.deps`, path.join(w.inputs, "cargo/nomember/crates/gone/Cargo.toml")] },
    // --- registries
    { name: "registry unreachable", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": `${w.dead}/e` }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\): start the local registry on port \d+ .*or point warmrun:registry at a reachable registry/, names: () => [`${KEY}.good`, "warmrun:registry"] },
    { name: "registry port out of range", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": "127.0.0.1:99999/e" }), message: /warmrun:registry "127\.0\.0\.1:99999\/e": port 99999 is out of range \(1-65535\): fix the port/, names: () => ["warmrun:registry", "99999"] },
    { name: "registry on a port HTTP clients refuse", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": "127.0.0.1:6000/e" }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:6000 is unreachable \(bad port: .*\): run the registry on another port/, names: () => [`${KEY}.good`, "6000"] },
    {
        name: "401 without credentials",
        config: (w) => onAuth(w),
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ refused HEAD \/v2\/e\/good\/manifests\/[0-9a-f]{24} \(401\), and no credentials for it were found: set warmrun:registryUsername and the secret warmrun:registryPassword, or log in with `docker login/,
        names: () => [`${KEY}.good`, "warmrun:registryUsername", "warmrun:registryPassword"],
    },
    {
        name: "401 with the stack config's credentials refused",
        config: (w) => onAuth(w, { "warmrun:registryUsername": "ci", "warmrun:registryPassword": w.wrongPassword }),
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ refused HEAD \S+ \(401\): the credentials from the stack config \(warmrun:registryUsername, warmrun:registryPassword\) were rejected: check warmrun:registryUsername and warmrun:registryPassword/,
        names: () => [`${KEY}.good`, "warmrun:registryPassword"],
        absent: [WRONG],
    },
    {
        name: "401 with Docker's config.json credentials refused",
        config: (w) => onAuth(w),
        env: (w) => ({ DOCKER_CONFIG: path.join(w.work, "docker-wrong") }),
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ refused HEAD \S+ \(401\): the credentials from \S+\/docker-wrong\/config\.json \(auths\["127\.0\.0\.1:\d+"\]\) were rejected: log in again \(`docker login 127\.0\.0\.1:\d+`\) or fix that entry/,
        names: (w) => [`${KEY}.good`, path.join(w.work, "docker-wrong/config.json")],
        absent: [WRONG],
    },
    {
        name: "401 with a credential helper's credentials refused",
        config: (w) => onAuth(w),
        env: (w) => ({ DOCKER_CONFIG: path.join(w.work, "docker-helper"), PATH: `${path.join(w.work, "helper-bin")}:${w.path}` }),
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ refused HEAD \S+ \(401\): the credentials from \S+\/docker-helper\/config\.json \(credHelpers: docker-credential-warmrun-wrong\) were rejected/,
        names: (w) => [`${KEY}.good`, "docker-credential-warmrun-wrong"],
        absent: [WRONG],
    },
    {
        name: "401 with containers' auth.json credentials refused",
        config: (w) => onAuth(w),
        env: (w) => ({ REGISTRY_AUTH_FILE: path.join(w.work, "containers-auth.json") }),
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ refused HEAD \S+ \(401\): the credentials from \S+\/containers-auth\.json \(auths\["127\.0\.0\.1:\d+"\]\) were rejected/,
        names: (w) => [`${KEY}.good`, path.join(w.work, "containers-auth.json")],
        absent: [WRONG],
    },
    {
        name: "a credential helper that is not installed",
        config: (w) => onAuth(w),
        env: (w) => ({ DOCKER_CONFIG: path.join(w.work, "docker-nohelper") }),
        message: /warmrun:artifacts\.good: credential helper docker-credential-warmrun-absent is not on PATH: install it, or remove "warmrun-absent" from the Docker config/,
        names: () => [`${KEY}.good`, "docker-credential-warmrun-absent"],
    },
    { name: "TLS to a plain-HTTP registry", config: (w) => on(w, good(w), { "warmrun:registryInsecure": false }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+: the TLS connection failed \(\S+\): if it speaks plain HTTP, set warmrun:registryInsecure to true/, names: () => [`${KEY}.good`, "warmrun:registryInsecure"] },
    { name: "a server answering HTML", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": `${w.html}/e` }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ does not answer as an OCI registry: GET manifest e\/good:[0-9a-f]{24} gave 200 text\/html \("<html>.*"\): check that warmrun:registry names an OCI distribution registry/, names: () => [`${KEY}.good`, "warmrun:registry"] },
    { name: "a server answering JSON that is no manifest", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": `${w.json}/e` }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ does not answer as an OCI registry: GET manifest e\/good:[0-9a-f]{24} gave 200 application\/json \("\{"status":"ok"\}"\)/, names: () => [`${KEY}.good`, "warmrun:registry"] },
    { name: "a web server that 404s", config: (w) => ({ ...on(w, good(w)), "warmrun:registry": `${w.notFound}/e` }), message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ does not answer as an OCI registry: GET \/v2\/ gave 404 text\/plain \("no such page"\)/, names: () => [`${KEY}.good`, "warmrun:registry"] },
    // --- tools
    {
        name: "buildah missing on a miss",
        config: (w) => on(w, { ...good(w), img: { kind: "BaseImage", containerfile: path.join(w.inputs, "ctx/Containerfile") } }, { "warmrun:builder": "buildah" }),
        env: (w) => ({ PATH: w.pathWithoutBuildah }),
        message: /warmrun:artifacts\.img: \S+\/e\/img:[0-9a-f]{24} is not in the registry, so `pulumi up` builds it with buildah, which is not installed \(not on PATH\): run `npm run setup` \(it installs buildah\)/,
        names: () => [`${KEY}.img`, "buildah"],
    },
    {
        name: "a disk builder command that is not installed",
        config: (w) => on(w, { ...good(w), disk: { kind: "Qcow2Image", command: ["warmrun-no-such-builder", "{output}"] } }),
        message: /warmrun:artifacts\.disk: \S+\/e\/disk:\S+ is not in the registry, so `pulumi up` builds it with warmrun-no-such-builder, which is not installed \(not on PATH\): install warmrun-no-such-builder, or fix warmrun:artifacts\.disk\.command/,
        names: () => [`${KEY}.disk`, `${KEY}.disk.command`],
    },
    // --- inside the provider (up, refresh): one message naming the artifact, no stack, nothing half-built tagged
    {
        name: "a build that fails (up)",
        command: "up",
        config: (w) => on(w, { ...good(w), img: { kind: "BaseImage", containerfile: path.join(w.inputs, "buildfail/Containerfile") } }, { "warmrun:builder": "buildah" }),
        message: /warmrun:artifacts\.img: the image build failed \(buildah bud exited with \d+\), so nothing was pushed: fix the Containerfile or the build context of warmrun:artifacts\.img and run again; last lines:\n[^]*\/bin\/false/,
        names: () => [`${KEY}.img`],
    },
    {
        name: "a push refused mid-way (up)",
        command: "up",
        config: (w) => on(w, { ...good(w), pushed: bundle(w, "pushed") }),
        around: async (run) => {
            proxyMode = "refuse-manifests";
            try {
                await run();
            } finally {
                proxyMode = "pass";
            }
        },
        message: /warmrun:artifacts\.pushed: registry 127\.0\.0\.1:\d+ denied PUT manifest e\/pushed:[0-9a-f]{24} \(403, DENIED: requested access to the resource is denied\) to anonymous access/,
        names: () => [`${KEY}.pushed`, "e/pushed"],
    },
    {
        name: "refresh with the registry gone",
        command: "refresh",
        config: (w) => on(w, good(w)),
        around: async (run) => {
            await proxyDown!();
            try {
                await run();
            } finally {
                await proxyUp!();
            }
        },
        message: /warmrun:artifacts\.good: registry 127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/,
        names: () => [`${KEY}.good`],
    },
];

interface Outcome {
    code: number;
    out: string;
    seconds: number;
    registryBefore: string;
    registryAfter: string;
    stateBefore: string;
    stateAfter: string;
}

/** The Diagnostics section of an engine run's output; without one (the engine refused the run itself), its error lines. */
function diagnosticsOf(out: string): string {
    const start = out.indexOf("\nDiagnostics:\n");
    if (start < 0) return out.split("\n").filter((l) => l.startsWith("error: ")).map((l) => `    ${l}`).join("\n");
    const end = out.slice(start + 1).search(/\n(Outputs|Resources):\n/);
    return end < 0 ? out.slice(start + 1) : out.slice(start + 1, start + 1 + end);
}

/**
 * The error messages of a Diagnostics section, less the engine's own (`update failed`): each is an
 * `error:` line and the lines under it at the same indent (a multi-line message), up to a blank line.
 */
function errorMessages(diagnostics: string): string[] {
    const blocks: string[] = [];
    let block: string[] = [];
    const close = () => {
        if (block.length) blocks.push(block.join("\n"));
        block = [];
    };
    for (const line of diagnostics.split("\n")) {
        const m = /^ {4}error: (.*)$/.exec(line);
        if (m) {
            close();
            block = [m[1]];
        } else if (block.length && /^ {4}\S|^ {5,}/.test(line)) block.push(line.slice(4));
        else close();
    }
    close();
    return blocks.filter((b) => !/^(update|preview|refresh) failed$/.test(b));
}

/** The first line of a message that is its own (not a problem list's heading). */
const firstLine = (message: string) => message.split("\n").find((l) => !/ has \d+ problems?:$/.test(l)) ?? message;

describe("errors: a table of failures through the real engine", function () {
    this.timeout(1_800_000);
    const outcomes = new Map<string, Outcome>();
    const lanes: { session: EngineSession; configFile: string; salt: string; cache: string; stateFile?: string }[] = [];
    const servers = new LocalServers();
    let registry: TestRegistry;
    let authRegistry: TestRegistry;
    let world: World;
    let work: string;
    let started: number;

    /** Every repository of the real registry that holds a tag, with its tags. */
    const registrySnapshot = async (): Promise<string> => {
        const catalog: any = await (await fetch(`http://${registry.host}/v2/_catalog?n=1000`)).json();
        const tagged: Record<string, string[]> = {};
        for (const repo of catalog.repositories ?? []) {
            const tags: any = await (await fetch(`http://${registry.host}/v2/${repo}/tags/list`)).json();
            if (tags.tags?.length) tagged[repo] = [...tags.tags].sort();
        }
        return JSON.stringify(tagged);
    };

    /** The file backend's state file of a lane's stack (found once, after its first up). */
    const stateFileOf = (lane: (typeof lanes)[number]): string => {
        if (lane.stateFile) return lane.stateFile;
        const stacks = path.join(work, "state", ".pulumi", "stacks");
        const found = fs.readdirSync(stacks, { recursive: true, encoding: "utf8" }).find((f) => path.basename(f) === `${lane.session.stack}.json`);
        assert.ok(found, `the state file of ${lane.session.stack} under ${stacks}`);
        return (lane.stateFile = path.join(stacks, found));
    };

    /**
     * The stack's artifacts (their Artifact resources: id and outputs) and its outputs, from the state
     * file. A failed up also leaves engine bookkeeping behind: the component of the artifact that
     * failed (empty, its Artifact never recorded) and the default provider's copy of the config;
     * neither is an artifact.
     */
    const stateOf = (lane: (typeof lanes)[number]): string => {
        const resources: any[] = JSON.parse(fs.readFileSync(stateFileOf(lane), "utf8")).checkpoint.latest?.resources ?? [];
        const kept = resources.filter((x) => x.type === "pulumi:pulumi:Stack" || String(x.type).startsWith("pulumi-nodejs:dynamic/"));
        return JSON.stringify(kept.map((x) => ({ urn: x.urn, id: x.id, outputs: x.outputs })));
    };

    const writeConfig = (lane: (typeof lanes)[number], settings: Record<string, unknown>) =>
        fs.writeFileSync(lane.configFile, YAML.stringify({ encryptionsalt: lane.salt, config: { "warmrun:cacheDir": lane.cache, ...settings } }));

    const goodConfig = () => on(world, good(world));

    async function runCase(lane: (typeof lanes)[number], c: Case): Promise<void> {
        const t0 = Date.now();
        const registryBefore = await registrySnapshot();
        const stateBefore = stateOf(lane);
        writeConfig(lane, c.config(world));
        const args = { preview: ["preview"], up: ["up", "--yes", "--skip-preview"], refresh: ["refresh", "--yes", "--skip-preview"] }[c.command ?? "preview"];
        let result = { code: 0, stdout: "", stderr: "" };
        const run = async () => {
            result = await lane.session.run(args, { allowFailure: true, env: c.env?.(world), wrap: c.wrap });
        };
        await (c.around ? c.around(run) : run());
        writeConfig(lane, goodConfig());
        outcomes.set(c.name, {
            code: result.code,
            out: `${result.stdout}\n${result.stderr}`,
            seconds: (Date.now() - t0) / 1000,
            registryBefore,
            registryAfter: await registrySnapshot(),
            stateBefore,
            stateAfter: stateOf(lane),
        });
    }

    before(async () => {
        started = Date.now();
        engineDir(); // fails here, naming the setup command, when the engine is missing
        for (const [tool, setup] of [["setpriv", "util-linux"], ["mkfifo", "coreutils"], ["cargo", "a Rust toolchain"]]) {
            try {
                execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
            } catch {
                throw new Error(`${tool} is not installed: run \`npm run setup\` (${setup})`);
            }
        }
        registry = await startRegistry();
        authRegistry = await startRegistry({ htpasswd: htpasswdFile("ci", "s3cret") });
        work = tempDir("warmrun-errors-");
        const inputs = path.join(work, "inputs");

        // A proxy in front of the real registry: it can refuse the artifacts' manifests (a push refused
        // mid-way, after the blobs; the build lease's manifest still passes), or stop listening (the registry gone).
        const [regHost, regPort] = [registry.host.split(":")[0], Number(registry.port)];
        const proxy = http.createServer((req, res) => {
            if (proxyMode === "refuse-manifests" && req.method === "PUT" && /\/manifests\/(?!lease-)/.test(req.url ?? "")) {
                req.resume();
                res.writeHead(403, { "content-type": "application/json" });
                return res.end(JSON.stringify({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] }));
            }
            const upstream = http.request({ host: regHost, port: regPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
                res.writeHead(r.statusCode ?? 502, r.headers);
                r.pipe(res);
            });
            upstream.on("error", () => res.destroy());
            req.pipe(upstream);
        });
        servers.add(proxy);
        const proxyPort = await freePort();
        const listenProxy = () => new Promise<void>((r) => proxy.listen(proxyPort, "127.0.0.1", r));
        await listenProxy();
        proxyDown = () =>
            new Promise<void>((r) => {
                proxy.close(() => r());
                proxy.closeAllConnections();
            });
        proxyUp = listenProxy;

        const html = await servers.answering(200, "text/html", "<html><body>Welcome to the intranet</body></html>");
        const json = await servers.answering(200, "application/json", '{"status":"ok"}');
        const notFound = await servers.answering(404, "text/plain", "no such page");

        const lock = (pkgs: string) => `# This file is automatically @generated by Cargo.\nversion = 3\n\n${pkgs}`;
        const app = (deps: string) => `[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}`;
        const util = { "util/Cargo.toml": '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n', "util/src/lib.rs": "\n" };
        const cargoTree = (dir: string, files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([p, t]) => [`cargo/${dir}/${p}`, t]));
        const ITOA = '[[package]]\nname = "itoa"\nversion = "1.0.19"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4"\n';
        const wrongAuth = (host: string) => JSON.stringify({ auths: { [host]: { auth: Buffer.from(`ci:${WRONG}`).toString("base64") } } });
        writeTree(inputs, {
            "good/a.txt": "the good bundle\n",
            afile: "a file, not a directory\n",
            "ctx/Containerfile": "FROM scratch\nCOPY a.txt /a.txt\n",
            "ctx/a.txt": "context\n",
            "cfdir/Containerfile/README": "a directory named like a Containerfile\n",
            "locked/Containerfile": { content: "FROM scratch\n", mode: 0o000 },
            "unreadable/a.txt": "fine\n",
            "unreadable/secret.txt": { content: "nobody may read this\n", mode: 0o000 },
            "unlistable/a.txt": "fine\n",
            "unlistable/private/x.txt": "behind a closed door\n",
            "ignoredir/a.txt": "fine\n",
            "ignoredir/.warmrunignore/README": "a directory, not an ignore file\n",
            // The first step fails: a later one would leave the steps before it in the layer cache (by design).
            "buildfail/Containerfile": "FROM scratch\nRUN /bin/false\n",
            "pushed/b.txt": "never tagged\n",
            ...cargoTree("badtoml", { "Cargo.toml": '[package\nname = "app"\n', "Cargo.lock": lock("") }),
            ...cargoTree("nolock", { "Cargo.toml": app(""), "src/main.rs": "fn main() {}\n" }),
            // app depends on the path crate util, which the lock does not hold.
            ...cargoTree("lockmissing", { "Cargo.toml": app('util = { path = "util" }\n'), "src/main.rs": "fn main() {}\n", ...util, "Cargo.lock": lock('[[package]]\nname = "app"\nversion = "0.1.0"\n') }),
            // app wants itoa 2, the lock holds itoa 1.0.19.
            ...cargoTree("lockold", { "Cargo.toml": app('itoa = "2"\n'), "src/main.rs": "fn main() {}\n", "Cargo.lock": lock('[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = [\n "itoa",\n]\n\n' + ITOA) }),
            // A lock of another package altogether.
            ...cargoTree("locknomember", { "Cargo.toml": app(""), "src/main.rs": "fn main() {}\n", "Cargo.lock": lock('[[package]]\nname = "other"\nversion = "0.1.0"\n') }),
            ...cargoTree("nomember", { "Cargo.toml": '[workspace]\nmembers = ["crates/gone"]\nresolver = "2"\n', "Cargo.lock": lock("") }),
        });
        fs.chmodSync(path.join(inputs, "unlistable/private"), 0o000);
        fs.symlinkSync("gone/Containerfile", path.join(inputs, "dangling"));
        execFileSync("mkfifo", [path.join(inputs, "fifo")]);
        // The oracle for the Cargo cases: cargo itself refuses each of these workspaces with --locked.
        for (const dir of ["badtoml", "nolock", "lockmissing", "lockold", "locknomember", "nomember"]) {
            assert.throws(() => execFileSync("cargo", ["metadata", "--locked", "--offline", "--format-version", "1"], { cwd: path.join(inputs, "cargo", dir), stdio: "pipe" }), `cargo refuses cargo/${dir} too`);
        }

        // Credentials that the registry refuses, where `docker login` and `podman login` keep them.
        writeTree(work, {
            "docker-wrong/config.json": wrongAuth(authRegistry.host),
            "containers-auth.json": wrongAuth(authRegistry.host),
            "docker-helper/config.json": JSON.stringify({ credHelpers: { [authRegistry.host]: "warmrun-wrong" } }),
            "docker-nohelper/config.json": JSON.stringify({ credHelpers: { [authRegistry.host]: "warmrun-absent" } }),
            "helper-bin/docker-credential-warmrun-wrong": { content: `#!/bin/sh\nread -r server\nprintf '{"ServerURL":"%s","Username":"ci","Secret":"${WRONG}"}' "$server"\n`, mode: 0o755 },
        });

        // PATH without buildah: a directory of links to every other command on PATH.
        const bin = path.join(work, "bin-without-buildah");
        fs.mkdirSync(bin);
        for (const dir of (process.env.PATH ?? "").split(":")) {
            if (!dir || !fs.existsSync(dir)) continue;
            for (const name of fs.readdirSync(dir)) {
                const link = path.join(bin, name);
                if (name !== "buildah" && !fs.existsSync(link)) fs.symlinkSync(path.join(dir, name), link);
            }
        }
        const { dir: engine } = engineDir();

        world = {
            registry: `127.0.0.1:${proxyPort}`,
            authRegistry: authRegistry.host,
            html,
            json,
            notFound,
            dead: `127.0.0.1:${await freePort()}`,
            inputs,
            work,
            wrongPassword: undefined,
            pathWithoutBuildah: `${engine}:${bin}`,
            path: `${engine}:${process.env.PATH}`,
        };

        // Two stacks, each up with the good config; previews run on both at once, up and refresh on the first.
        // No credentials of the machine's own: Docker's and containers' files are looked for in the work directory.
        const isolated = {
            DOCKER_CONFIG: path.join(work, "docker-none"),
            XDG_RUNTIME_DIR: path.join(work, "xdg-runtime"),
            XDG_CONFIG_HOME: path.join(work, "xdg-config"),
            REGISTRY_AUTH_FILE: path.join(work, "no-auth.json"),
        };
        for (const name of ["errors-a", "errors-b"]) {
            const configFile = path.join(work, `Pulumi.${name}.yaml`);
            const session = new EngineSession(work, name, configFile, { WARMRUN_JOURNAL: path.join(work, `${name}.journal`), ...isolated });
            await session.init();
            const salt = YAML.parse(fs.readFileSync(configFile, "utf8")).encryptionsalt;
            const cache = path.join(work, `cache-${name}`);
            // The index entries of the locked crates (itoa): the key asks no index over the network.
            fs.cpSync(path.join(__dirname, "..", "fixtures", "cargo-index"), path.join(cache, "cargo-index"), { recursive: true });
            lanes.push({ session, configFile, salt, cache });
        }
        // The config file stores a secret encrypted with the stack's salt; both stacks share the passphrase, not the salt.
        writeConfig(lanes[0], goodConfig());
        await lanes[0].session.run(["config", "set", "--secret", "warmrun:registryPassword", WRONG]);
        world.wrongPassword = YAML.parse(fs.readFileSync(lanes[0].configFile, "utf8")).config["warmrun:registryPassword"];
        await Promise.all(
            lanes.map(async (lane) => {
                writeConfig(lane, goodConfig());
                await lane.session.run(["up", "--yes", "--skip-preview"]);
            }),
        );

        // Previews in two lanes; a case whose config holds the secret runs on the first stack (its salt).
        const previews = CASES.filter((c) => (c.command ?? "preview") === "preview");
        const queues: Case[][] = [[], []];
        previews.forEach((c, i) => queues[c.name.startsWith("401 with the stack config") ? 0 : i % 2].push(c));
        await Promise.all(
            lanes.map(async (lane, i) => {
                for (const c of queues[i]) await runCase(lane, c);
            }),
        );
        for (const c of CASES.filter((c) => (c.command ?? "preview") !== "preview")) await runCase(lanes[0], c);
    });

    after(async () => {
        if (process.env.WARMRUN_ERRORS_TABLE) {
            for (const c of CASES) {
                const o = outcomes.get(c.name);
                const first = o ? firstLine(errorMessages(diagnosticsOf(o.out))[0] ?? "") : "(not run)";
                console.log(`| ${c.name} | ${c.command ?? "preview"} | ${o?.seconds.toFixed(1)} s | ${first.replace(/\|/g, "\\|")} |`);
            }
        }
        console.log(`errors table: ${CASES.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
        servers.close();
        await registry?.stop();
        await authRegistry?.stop();
        if (work) for (const dir of ["unlistable/private"]) fs.chmodSync(path.join(work, "inputs", dir), 0o755);
        removeTempDirs();
    });

    it(`the table has at least 25 failures (${CASES.length})`, () => assert.ok(CASES.length >= 25));

    for (const c of CASES) {
        it(`${c.name}: one message naming what to fix, no stack trace, nothing pushed, state unchanged`, () => {
            const o = outcomes.get(c.name);
            assert.ok(o, "the case ran");
            assert.notEqual(o.code, 0, `non-zero exit:\n${o.out}`);
            assert.doesNotMatch(o.out, /unhandled exception/i, "no unhandled exception");
            assert.doesNotMatch(o.out, /^\s+at \S/m, "no stack trace frames");
            const messages = errorMessages(diagnosticsOf(o.out));
            assert.equal(messages.length, 1, `one error message, not ${messages.length}:\n${o.out}`);
            assert.match(messages[0], c.message, o.out);
            // Once among the diagnostics (the engine's progress rows also show a resource's latest line as it runs).
            const occurrences = diagnosticsOf(o.out).split(firstLine(messages[0])).length - 1;
            assert.equal(occurrences, 1, `the message is printed once:\n${o.out}`);
            for (const name of c.names(world)) assert.ok(messages[0].includes(name), `the message names ${name}: ${messages[0]}`);
            for (const secret of c.absent ?? []) assert.ok(!o.out.includes(secret), `${secret} is not printed`);
            assert.equal(o.registryAfter, o.registryBefore, "nothing was tagged in the registry");
            assert.equal(o.stateAfter, o.stateBefore, "the state is unchanged");
        });
    }

    it("the suggested artifact name is itself valid", () => {
        const o = outcomes.get("bad artifact name")!;
        const suggestion = /\(e\.g\. ([^)]+)\)/.exec(errorMessages(diagnosticsOf(o.out))[0])![1];
        assert.ok(isValidRepository(suggestion), suggestion);
    });

    it("after every case, a preview of the good config works: nothing to change but the empty components failed ups left", async () => {
        for (const lane of lanes) {
            writeConfig(lane, goodConfig());
            const r = await lane.session.run(["preview", "--json"], { allowFailure: true });
            assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
            const changes = (JSON.parse(r.stdout).steps as any[]).filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").slice(-2).join("::")}`);
            const leftovers = lane === lanes[0] ? ["delete warmrun:index:BaseImage::img", "delete warmrun:index:FileBundle::pushed"] : [];
            assert.deepEqual(changes.sort(), leftovers, r.stdout);
        }
    });
});
