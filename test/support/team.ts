// What a team's runners share, on one machine: a real S3-compatible server (versitygw, started by
// scripts/s3.sh) holding Pulumi's state, and separate checkouts of the project.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFile, execFileSync } from "child_process";
import { strict as assert } from "assert";
import { PROJECT_ROOT } from "./engine";
import { RegistryClient } from "../../components/oci/registry";
import { tempDir } from "./tmp";

export interface TestS3 {
    /** The backend URL in gocloud's current form: endpoint with a scheme. */
    url: string;
    /** The same bucket in the older form (scheme-less endpoint, disableSSL), which Pulumi rewrites. */
    legacyUrl: string;
    port: number;
    bucket: string;
    /** Where the server keeps the bucket's objects (one file per object). */
    bucketDir: string;
    env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
    stop(): Promise<void>;
}

function s3Binary(): string {
    const cache = process.env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
    const bin = path.join(cache, "bin", "versitygw");
    if (!fs.existsSync(bin)) throw new Error(`versitygw (the S3-compatible server) is not installed: run \`npm run setup\` (scripts/install-s3.sh builds it into ${path.dirname(bin)})`);
    return bin;
}

function s3sh(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("bash", [path.join(PROJECT_ROOT, "scripts", "s3.sh"), ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
            if (err) reject(new Error(`scripts/s3.sh ${args.join(" ")} failed: ${stderr}`));
            else resolve(stdout.trim());
        });
    });
}

/** Starts versitygw on a free 127.0.0.1 port with one bucket, data in a temporary directory. */
export async function startS3(bucket = "team-state"): Promise<TestS3> {
    s3Binary();
    const dir = tempDir("warmrun-s3-");
    const env = { WARMRUN_S3_DIR: dir, WARMRUN_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: "team-test", AWS_SECRET_ACCESS_KEY: "team-test-secret" };
    const url = await s3sh(["start"], env);
    const port = Number(/endpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(url)?.[1]);
    if (!port) throw new Error(`scripts/s3.sh start printed no backend URL: ${url}`);
    return {
        url,
        legacyUrl: `s3://${bucket}?endpoint=127.0.0.1:${port}&s3ForcePathStyle=true&disableSSL=true&region=us-east-1`,
        port,
        bucket,
        bucketDir: path.join(dir, "data", bucket),
        env: { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY },
        stop: async () => {
            await s3sh(["stop"], env);
        },
    };
}

/** The files a checkout needs to run the program; node_modules is linked, not copied. */
const PROJECT_FILES = ["index.ts", "program.js", "components", "loader", "Pulumi.yaml", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.pulumi.json"];

/** A copy of this project in a new directory, as a second runner's checkout would be. */
export function copyProject(prefix = "warmrun-checkout-"): string {
    const dir = tempDir(prefix);
    for (const f of PROJECT_FILES) fs.cpSync(path.join(PROJECT_ROOT, f), path.join(dir, f), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(PROJECT_ROOT, "node_modules")), path.join(dir, "node_modules"));
    return dir;
}

/** A tag (or digest) names a whole artifact: every blob of a manifest, every manifest of an index (a referrers index too). */
export async function assertWhole(client: RegistryClient, repository: string, reference: string): Promise<void> {
    const m = await client.getManifest(repository, reference);
    assert.ok(m, `${repository}:${reference} has a manifest`);
    if (Array.isArray(m.json.manifests)) {
        for (const d of m.json.manifests) await assertWhole(client, repository, d.digest);
        return;
    }
    for (const d of [m.json.config, ...m.json.layers]) assert.ok(await client.blobExists(repository, d.digest), `${repository}:${reference} blob ${d.digest}`);
}

/** The digest of a tag as skopeo sees it (`inspect --raw`, then `manifest-digest`): a tool we did not write. */
export function skopeoDigest(host: string, repository: string, tag: string): string {
    try {
        execFileSync("sh", ["-c", "command -v skopeo"], { stdio: "ignore" });
    } catch {
        throw new Error("skopeo is not installed: run `npm run setup`");
    }
    const file = path.join(tempDir("warmrun-skopeo-"), "manifest.json");
    fs.writeFileSync(file, execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${host}/${repository}:${tag}`]));
    return execFileSync("skopeo", ["manifest-digest", file], { encoding: "utf8" }).trim();
}
