// Reads what an image holds under some directories, through buildah itself (a working container,
// mounted): each entry's type and, for files, size and sha256. The oracle of the warm-start tests.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { execFileSync } from "child_process";

const BUILDAH = ["--storage-driver", "vfs"];

export interface TreeEntry {
    type: "file" | "dir" | "link";
    size?: number;
    sha256?: string;
    target?: string;
}

export type Tree = Map<string, TreeEntry>;

function buildah(args: string[]): string {
    return execFileSync("buildah", [...BUILDAH, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }).trim();
}

/** Runs fn on the mounted root of a working container of `image` (pulled over plain HTTP). */
export async function withImageRoot<T>(image: string, fn: (root: string, container: string) => Promise<T> | T): Promise<T> {
    const container = buildah(["from", "--quiet", "--tls-verify=false", `docker://${image}`]).split("\n").pop()!;
    try {
        const root = buildah(["mount", container]).split("\n").pop()!;
        return await fn(root, container);
    } finally {
        buildah(["rm", container]);
    }
}

/** Every entry under root/dir (relative to root/dir), symbolic links not followed. */
export function readTree(root: string, dir: string): Tree {
    const base = path.join(root, dir);
    const out: Tree = new Map();
    const walk = (rel: string) => {
        for (const name of fs.readdirSync(path.join(base, rel)).sort()) {
            const r = rel ? `${rel}/${name}` : name;
            const abs = path.join(base, r);
            const st = fs.lstatSync(abs);
            if (st.isSymbolicLink()) out.set(r, { type: "link", target: fs.readlinkSync(abs) });
            else if (st.isDirectory()) {
                out.set(r, { type: "dir" });
                walk(r);
            } else out.set(r, { type: "file", size: st.size, sha256: createHash("sha256").update(fs.readFileSync(abs)).digest("hex") });
        }
    };
    if (fs.existsSync(base)) walk("");
    return out;
}

export interface TreeDiff {
    onlyA: string[];
    onlyB: string[];
    /** Files in both whose content differs. */
    differ: string[];
}

export function diffTrees(a: Tree, b: Tree, ignore: (p: string) => boolean = () => false): TreeDiff {
    const onlyA = [...a.keys()].filter((p) => !b.has(p) && !ignore(p)).sort();
    const onlyB = [...b.keys()].filter((p) => !a.has(p) && !ignore(p)).sort();
    const differ = [...a.keys()]
        .filter((p) => b.has(p) && !ignore(p))
        .filter((p) => {
            const x = a.get(p)!;
            const y = b.get(p)!;
            return x.type !== y.type || x.sha256 !== y.sha256 || x.target !== y.target;
        })
        .sort();
    return { onlyA, onlyB, differ };
}
