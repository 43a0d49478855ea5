// An "external" image, as a registry outside the stack would serve it: built by buildah from
// scratch (a marker file and, for SBOM checks, a copy of this machine's dpkg database) and pushed
// under a tag, so a test can move the tag by pushing new content.
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { tempDir } from "./tmp";

const BUILDAH = ["--storage-driver", "vfs"];

export function requireBuildah(): void {
    try {
        execFileSync("sh", ["-c", "command -v buildah && command -v skopeo"], { stdio: "ignore" });
    } catch {
        throw new Error("buildah or skopeo is not installed: run `npm run setup` (it installs Debian's buildah and skopeo)");
    }
}

function buildah(args: string[]): string {
    return execFileSync("buildah", [...BUILDAH, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Pushes an image holding /etc/base-release = `release` (and var/lib/dpkg/status) to `ref` (host/repo:tag); returns its manifest digest. */
export function pushExternalImage(ref: string, release: string): string {
    const dir = tempDir("warmrun-external-");
    fs.mkdirSync(path.join(dir, "etc"), { recursive: true });
    fs.writeFileSync(path.join(dir, "etc/base-release"), `${release}\n`);
    fs.mkdirSync(path.join(dir, "var/lib/dpkg"), { recursive: true });
    fs.copyFileSync("/var/lib/dpkg/status", path.join(dir, "var/lib/dpkg/status"));
    const local = `localhost/warmrun-test/external:${release}`;
    const ctr = buildah(["from", "scratch"]).split("\n").pop()!;
    try {
        buildah(["copy", ctr, dir, "/"]);
        buildah(["commit", "--format", "oci", "-q", ctr, local]);
    } finally {
        buildah(["rm", ctr]);
    }
    const digestFile = path.join(dir, "..", `${path.basename(dir)}.digest`);
    buildah(["push", "--tls-verify=false", "--format", "oci", "--digestfile", digestFile, local, `docker://${ref}`]);
    const digest = fs.readFileSync(digestFile, "utf8").trim();
    fs.rmSync(digestFile, { force: true });
    buildah(["rmi", local]);
    return digest;
}

/** skopeo inspect --raw: the manifest (or index) as the registry serves it. */
export function rawManifest(ref: string): any {
    return JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`], { encoding: "utf8" }));
}

/** Unpacks an image's layers in order (skopeo copy, then tar) into a fresh directory: the image's tree. */
export function unpackWithSkopeo(ref: string): string {
    const layout = tempDir("warmrun-unpack-");
    execFileSync("skopeo", ["copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `dir:${layout}/image`], { stdio: "ignore" });
    const manifest = JSON.parse(fs.readFileSync(path.join(layout, "image/manifest.json"), "utf8"));
    const tree = path.join(layout, "tree");
    fs.mkdirSync(tree);
    for (const l of manifest.layers) execFileSync("tar", ["-xf", path.join(layout, "image", l.digest.replace(/^sha256:/, "")), "-C", tree, "--exclude=.wh.*"]);
    return tree;
}

/** dpkg-query's own answer on a tree: installed packages as name:arch=version, sorted. */
export function dpkgQuery(tree: string): string[] {
    const out = execFileSync("dpkg-query", ["-W", `--admindir=${path.join(tree, "var/lib/dpkg")}`, "-f", "${db:Status-Status}\\t${Package}\\t${Architecture}\\t${Version}\\n"], { encoding: "utf8" });
    return out
        .split("\n")
        .filter((l) => l.startsWith("installed\t"))
        .map((l) => {
            const [, name, arch, version] = l.split("\t");
            return `${name}:${arch}=${version}`;
        })
        .sort();
}

/** The Debian packages of an SPDX document as name:arch=version (from their purls), sorted. */
export function spdxDebs(doc: any): string[] {
    return (doc.packages as any[])
        .map((p) => p.externalRefs?.find((r: any) => r.referenceType === "purl")?.referenceLocator as string | undefined)
        .filter((purl): purl is string => !!purl && purl.startsWith("pkg:deb/"))
        .map((purl) => {
            const m = /^pkg:deb\/debian\/([^@]+)@([^?]+)\?arch=(.+)$/.exec(purl)!;
            return `${decodeURIComponent(m[1])}:${decodeURIComponent(m[3])}=${decodeURIComponent(m[2])}`;
        })
        .sort();
}
