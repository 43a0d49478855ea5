// Re-captures the download-analytics corpus (test/fixtures/downloads/) from real runs of the tools:
//   npm run capture-downloads [-- name...]
// Each capture is a real download into a fresh temporary place, so every item is a real download.
// What was downloaded is read back from disk (the crate files, the .deb files, the module zips, the
// installed packages, the pack files), independently of the parser, into <name>.expected.json.
// The log is redacted (host names of URLs, temporary and home paths, the machine's name), and the
// same redaction is applied to the expected names; the script checks that the parser counts the
// same on the raw and on the redacted log, so redaction never changes what the rules count.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as http from "http";
import { spawn, execFileSync } from "child_process";
import { countDownloads } from "../components/downloads/counter";
import { findPackageRoot } from "../components/core/packageRoot";

const ROOT = findPackageRoot(__dirname);
const OUT = path.join(ROOT, "test", "fixtures", "downloads");

export interface ExpectedItem {
    tool: string;
    name: string;
    /** Size on disk of what was downloaded (absent where the tool keeps no file of it). */
    bytes?: number;
}

export interface ExpectedCapture {
    command: string;
    /** Where the log comes from: a real run (this script), or a tool's documented format. */
    source: string;
    items: ExpectedItem[];
    /** Whether the tool prints sizes (per item or as a total): only then are bytes checked. */
    printsBytes: boolean;
    /** Sum of the items' sizes on disk, when known. */
    bytes?: number;
}

interface Capture {
    name: string;
    tool: string;
    /** Placeholder host for every URL host in the log. */
    host: string;
    printsBytes: boolean;
    run: (tmp: string) => Promise<{ command: string; log: Buffer; items: Omit<ExpectedItem, "tool">[] | ExpectedItem[]; bytes?: number }>;
}

/** Runs a command with stdout and stderr into one file, so their interleaving is kept. */
function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }, logFile: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const fd = fs.openSync(logFile, "a");
        const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", fd, fd] });
        child.on("error", reject);
        child.on("close", (code) => {
            fs.closeSync(fd);
            if (code === 0) resolve();
            else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`));
        });
    });
}

function walk(dir: string, test: (file: string) => boolean, out: string[] = []): string[] {
    if (!fs.existsSync(dir)) return out;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, test, out);
        else if (e.isFile() && test(p)) out.push(p);
    }
    return out;
}

const size = (f: string) => fs.statSync(f).size;

const CAPTURES: Capture[] = [
    {
        name: "cargo-fetch",
        tool: "cargo",
        host: "registry.example",
        printsBytes: true,
        // The example workspace's lock file, fetched into an empty CARGO_HOME, with colours on.
        async run(tmp) {
            const ws = path.join(tmp, "ws");
            fs.cpSync(path.join(ROOT, "examples", "rust-workspace"), ws, { recursive: true });
            const home = path.join(tmp, "cargo-home");
            const log = path.join(tmp, "log");
            // Under a terminal (script(1)), cargo draws its progress bar and prints its total line.
            await run("script", ["-qec", "stty cols 120 rows 40; cargo fetch --locked", "/dev/null"], { cwd: ws, env: { CARGO_HOME: home } }, log);
            const items = walk(path.join(home, "registry", "cache"), (f) => f.endsWith(".crate")).map((f) => {
                const m = /^(.*)-(\d+\.\d+\.\d+(?:[-+].*)?)\.crate$/.exec(path.basename(f));
                if (!m) throw new Error(`unexpected crate file ${f}`);
                return { name: `${m[1]}@${m[2]}`, bytes: size(f) };
            });
            return { command: "cargo fetch --locked (on a terminal)", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "cargo-fetch-plain",
        tool: "cargo",
        host: "registry.example",
        printsBytes: false,
        // Without a terminal, as inside an image build: one line per crate, no progress bar, no total.
        async run(tmp) {
            const ws = path.join(tmp, "ws");
            fs.cpSync(path.join(ROOT, "examples", "rust-workspace"), ws, { recursive: true });
            const home = path.join(tmp, "cargo-home");
            const log = path.join(tmp, "log");
            await run("cargo", ["fetch", "--locked"], { cwd: ws, env: { CARGO_HOME: home } }, log);
            const items = walk(path.join(home, "registry", "cache"), (f) => f.endsWith(".crate")).map((f) => {
                const m = /^(.*)-(\d+\.\d+\.\d+(?:[-+].*)?)\.crate$/.exec(path.basename(f));
                if (!m) throw new Error(`unexpected crate file ${f}`);
                return { name: `${m[1]}@${m[2]}`, bytes: size(f) };
            });
            return { command: "cargo fetch --locked", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "debootstrap",
        tool: "debootstrap",
        host: "mirror.example",
        printsBytes: false,
        // The dev stack's root: debootstrap's package retrievals (index files are retrieved too).
        async run(tmp) {
            const target = path.join(tmp, "tree");
            const log = path.join(tmp, "log");
            const suite = execFileSync("sh", ["-c", ". /etc/os-release && echo $VERSION_CODENAME"], { encoding: "utf8" }).trim();
            await run("debootstrap", ["--download-only", "--variant=minbase", "--arch=amd64", suite, target], { cwd: tmp }, log);
            const items = walk(path.join(target, "var", "cache", "apt", "archives"), (f) => f.endsWith(".deb")).map((f) => {
                const [pkg, version] = execFileSync("dpkg-deb", ["-f", f, "Package", "Version"], { encoding: "utf8" })
                    .trim()
                    .split("\n")
                    .map((l) => l.replace(/^\w+: /, ""));
                return { name: `${pkg}@${version}`, bytes: size(f) };
            });
            return { command: `debootstrap --download-only --variant=minbase --arch=amd64 ${suite} <tmp>/tree`, log: fs.readFileSync(log), items };
        },
    },
    {
        name: "apt-get-download",
        tool: "apt",
        host: "mirror.example",
        printsBytes: true,
        async run(tmp) {
            const log = path.join(tmp, "log");
            await run("apt-get", ["download", "hello", "sl"], { cwd: tmp }, log);
            const items = walk(tmp, (f) => f.endsWith(".deb")).map((f) => {
                const [pkg, version] = execFileSync("dpkg-deb", ["-f", f, "Package", "Version"], { encoding: "utf8" })
                    .trim()
                    .split("\n")
                    .map((l) => l.replace(/^\w+: /, ""));
                return { name: `${pkg}@${version}`, bytes: size(f) };
            });
            return { command: "apt-get download hello sl", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "git-clone-fetch",
        tool: "git",
        host: "git.example",
        printsBytes: true,
        // A clone over file:// and a fetch of one new commit, both with --progress (carriage returns).
        // Kept packs (unpackLimit 1) make the received bytes visible on disk.
        async run(tmp) {
            const origin = path.join(tmp, "origin");
            const log = path.join(tmp, "log");
            const scratch = path.join(tmp, "scratch.log");
            const git = (args: string[], cwd: string) => run("git", ["-c", "user.name=capture", "-c", "user.email=capture@example.com", ...args], { cwd }, scratch);
            fs.mkdirSync(origin);
            await git(["init", "-q", "-b", "main"], origin);
            for (let i = 0; i < 3; i++) {
                fs.writeFileSync(path.join(origin, `blob-${i}.bin`), cryptoBytes(700_000));
                await git(["add", "."], origin);
                await git(["commit", "-q", "-m", `blob ${i}`], origin);
            }
            await run("git", ["-c", "transfer.unpackLimit=1", "clone", "--progress", `file://${origin}`, "clone"], { cwd: tmp }, log);
            fs.writeFileSync(path.join(origin, "blob-3.bin"), cryptoBytes(400_000));
            await git(["add", "."], origin);
            await git(["commit", "-q", "-m", "blob 3"], origin);
            await run("git", ["-c", "fetch.unpackLimit=1", "fetch", "--progress"], { cwd: path.join(tmp, "clone") }, log);
            const packs = walk(path.join(tmp, "clone", ".git", "objects", "pack"), (f) => f.endsWith(".pack"));
            const bytes = packs.reduce((s, f) => s + size(f), 0);
            return {
                command: "git clone --progress file://<tmp>/origin clone && git fetch --progress",
                log: fs.readFileSync(log),
                items: [{ name: "clone" }, { name: "fetch" }],
                bytes,
            };
        },
    },
    {
        name: "npm-install",
        tool: "npm",
        host: "registry.example",
        printsBytes: false,
        // A fresh cache, so every installed package was downloaded; http log level prints each fetch.
        async run(tmp) {
            const dir = path.join(tmp, "proj");
            fs.mkdirSync(dir);
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "capture", version: "1.0.0", private: true }));
            const log = path.join(tmp, "log");
            await run("npm", ["install", "--cache", path.join(tmp, "npm-cache"), "--loglevel", "http", "--no-fund", "--no-update-notifier", "is-odd@3.0.1", "ms@2.1.3"], { cwd: dir }, log);
            const items = walk(path.join(dir, "node_modules"), (f) => /node_modules\/(@[^/]+\/)?[^/@.][^/]*\/package\.json$/.test(f))
                .map((f) => JSON.parse(fs.readFileSync(f, "utf8")))
                .filter((p) => p.name && p.version)
                .map((p) => ({ name: `${p.name}@${p.version}` }));
            return { command: "npm install --cache <tmp>/npm-cache --loglevel http is-odd@3.0.1 ms@2.1.3", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "go-mod-download",
        tool: "go",
        host: "proxy.example",
        printsBytes: false,
        async run(tmp) {
            const dir = path.join(tmp, "mod");
            fs.mkdirSync(dir);
            fs.writeFileSync(
                path.join(dir, "go.mod"),
                "module example.com/capture\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgithub.com/pkg/errors v0.9.1\n)\n",
            );
            const modcache = path.join(tmp, "gomod");
            const log = path.join(tmp, "log");
            await run("go", ["mod", "download", "-x"], { cwd: dir, env: { GOMODCACHE: modcache, GOFLAGS: "-modcacherw", GOTOOLCHAIN: "local" } }, log);
            const items = walk(path.join(modcache, "cache", "download"), (f) => f.endsWith(".zip")).map((f) => {
                const rel = path.relative(path.join(modcache, "cache", "download"), f);
                const m = /^(.*)\/@v\/(.*)\.zip$/.exec(rel);
                if (!m) throw new Error(`unexpected module zip ${f}`);
                return { name: `${m[1].replace(/!([a-z])/g, (_, c) => c.toUpperCase())}@${m[2]}`, bytes: size(f) };
            });
            return { command: "go mod download -x", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "pip-download",
        tool: "pip",
        host: "registry.example",
        printsBytes: true,
        async run(tmp) {
            const dest = path.join(tmp, "wheels");
            const log = path.join(tmp, "log");
            await run("pip", ["download", "--no-deps", "--no-cache-dir", "--progress-bar", "off", "-d", dest, "six==1.17.0", "idna==3.10"], { cwd: tmp, env: { PIP_FIND_LINKS: "" } }, log);
            const items = walk(dest, () => true).map((f) => ({ name: path.basename(f), bytes: size(f) }));
            return { command: "pip download --no-deps --no-cache-dir -d <tmp>/wheels six==1.17.0 idna==3.10", log: fs.readFileSync(log), items };
        },
    },
    {
        name: "curl-wget",
        tool: "curl",
        host: "files.example",
        printsBytes: true,
        // A local HTTP server: curl's progress meter (carriage returns) and wget's "saved [n/n]" line.
        async run(tmp) {
            const files: Record<string, Buffer> = { "/tool.tar.gz": cryptoBytes(1_300_000), "/data.bin": cryptoBytes(2_100_000) };
            const server = http.createServer((req, res) => {
                const body = files[req.url ?? ""];
                if (!body) return res.writeHead(404).end();
                res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
                // Slow enough that curl draws a few progress frames.
                let off = 0;
                const tick = () => {
                    if (off >= body.length) return res.end();
                    res.write(body.subarray(off, off + 256_000));
                    off += 256_000;
                    setTimeout(tick, 150);
                };
                tick();
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            const port = (server.address() as any).port;
            const log = path.join(tmp, "log");
            try {
                await run("curl", ["-o", "tool.tar.gz", `http://127.0.0.1:${port}/tool.tar.gz`], { cwd: tmp }, log);
                await run("wget", ["-O", "data.bin", `http://127.0.0.1:${port}/data.bin`], { cwd: tmp, env: { LC_ALL: "C" } }, log);
            } finally {
                server.close();
            }
            return {
                command: "curl -o tool.tar.gz http://<host>/tool.tar.gz && wget -O data.bin http://<host>/data.bin",
                log: fs.readFileSync(log),
                items: [
                    { name: "curl", bytes: size(path.join(tmp, "tool.tar.gz")) },
                    { tool: "wget", name: "data.bin", bytes: size(path.join(tmp, "data.bin")) },
                ],
            };
        },
    },
];

function cryptoBytes(n: number): Buffer {
    return require("crypto").randomBytes(n);
}

/** Host names found in URLs of the text, and each of their parent domains of two labels or more. */
function hostsIn(text: string): string[] {
    const hosts = new Set<string>();
    for (const m of text.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s]*@)?([A-Za-z0-9.-]+)/g)) {
        const labels = m[1].toLowerCase().split(".");
        for (let i = 0; i <= labels.length - 2; i++) hosts.add(labels.slice(i).join("."));
    }
    for (const v of [process.env.https_proxy, process.env.HTTPS_PROXY, process.env.http_proxy, process.env.HTTP_PROXY]) {
        const m = v && /^[a-z]+:\/\/(?:[^@/]*@)?([^:/]+)/.exec(v);
        if (m) hosts.add(m[1]);
    }
    // Loopback stays what it is; placeholders of this script are not hosts to hide.
    for (const keep of ["127.0.0.1", "0.0.1", "0.1"]) hosts.delete(keep);
    return [...hosts].filter((h) => /[a-z]$/.test(h) && !h.endsWith(".example") && h !== "example.com").sort((a, b) => b.length - a.length);
}

export function redact(text: string, host: string, tmp: string): string {
    let out = text;
    const paths: [string, string][] = [
        [tmp, "<tmp>"],
        [fs.realpathSync(tmp), "<tmp>"],
        [ROOT, "<project>"],
        [os.homedir(), "<home>"],
        [os.tmpdir(), "<tmp>"],
    ];
    for (const [p, placeholder] of paths) out = out.split(p).join(placeholder);
    // URL hosts (with any user info and port) become the placeholder.
    out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)(?:[^@/\s]*@)?(?!<)[A-Za-z0-9.-]+(?::\d+)?/g, (all, scheme) => (scheme === "file://" ? all : scheme + host));
    // Registry names printed bare: cargo's "Updating <registry> index".
    // eslint-disable-next-line no-control-regex
    out = out.replace(/(Updating(?:\x1b\[[0-9;]*m)*) (\S+) index/g, `$1 ${host} index`);
    // Registry names seen in URLs, wherever else they are printed.
    for (const h of hostsIn(text)) out = out.split(h).join(host);
    const machine = os.hostname();
    if (machine.length > 3) out = out.split(machine).join("host.example");
    return out;
}

async function main(): Promise<void> {
    const only = process.argv.slice(2);
    fs.mkdirSync(OUT, { recursive: true });
    for (const c of CAPTURES.filter((c) => only.length === 0 || only.includes(c.name))) {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "capture-"));
        try {
            const started = Date.now();
            const got: any = await c.run(tmp);
            const raw = got.log.toString("utf8");
            const text = redact(raw, c.host, tmp);
            const hosts = hostsIn(raw);
            const leaked = hosts.filter((h) => text.includes(h));
            // Anything still shaped like a public host name (module paths under github.com aside).
            for (const m of text.matchAll(/\b(?:[a-z0-9-]+\.)+(?:io|org|com|net|dev|rs|sh)\b/g)) {
                if (!["github.com", "example.com"].includes(m[0])) leaked.push(m[0]);
            }
            if (leaked.length) throw new Error(`${c.name}: redaction left host names in the log: ${leaked.join(", ")}`);
            const items: ExpectedItem[] = got.items
                .map((i: any) => ({ tool: i.tool ?? c.tool, name: redact(i.name, c.host, tmp), ...(i.bytes !== undefined ? { bytes: i.bytes } : {}) }))
                .sort((a: ExpectedItem, b: ExpectedItem) => a.name.localeCompare(b.name));
            const bytes: number | undefined = got.bytes ?? (items.every((i) => i.bytes !== undefined) ? items.reduce((s, i) => s + (i.bytes ?? 0), 0) : undefined);
            const before = countDownloads(raw);
            const after = countDownloads(text);
            if (before.count !== after.count || before.bytes !== after.bytes) {
                throw new Error(`${c.name}: redaction changed the counts (${before.count}/${before.bytes} -> ${after.count}/${after.bytes})`);
            }
            const expected: ExpectedCapture = { command: got.command, source: "real run, captured by scripts/capture-downloads.ts", items, printsBytes: c.printsBytes, ...(bytes !== undefined ? { bytes } : {}) };
            fs.writeFileSync(path.join(OUT, `${c.name}.txt`), text);
            fs.writeFileSync(path.join(OUT, `${c.name}.expected.json`), JSON.stringify(expected, null, 2) + "\n");
            console.log(`${c.name}: ${items.length} items${bytes !== undefined ? `, ${bytes} bytes` : ""}, parser ${after.count} items ${after.bytes} bytes (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    }
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e.message);
        process.exit(1);
    });
}
