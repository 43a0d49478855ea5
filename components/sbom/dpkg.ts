// The Debian packages of a root tree, from its dpkg database (var/lib/dpkg/status): stanzas of
// `Field: value` lines (continuations indented), one per package dpkg knows.
import * as fs from "fs";
import * as path from "path";

export const DPKG_STATUS = "var/lib/dpkg/status";

export interface DebPackage {
    name: string;
    version: string;
    architecture: string;
    /** The source package, when it differs from the binary's name (`Source: x` or `Source: x (version)`). */
    source?: string;
    maintainer?: string;
    homepage?: string;
}

/** Splits a status file into its stanzas' fields (field names as written, values with continuations joined by newlines). */
export function parseStanzas(text: string): Record<string, string>[] {
    const stanzas: Record<string, string>[] = [];
    let current: Record<string, string> = {};
    let last: string | undefined;
    const flush = () => {
        if (Object.keys(current).length) stanzas.push(current);
        current = {};
        last = undefined;
    };
    for (const line of text.split("\n")) {
        if (line.trim() === "") {
            flush();
            continue;
        }
        if ((line.startsWith(" ") || line.startsWith("\t")) && last) {
            current[last] += "\n" + line.slice(1);
            continue;
        }
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        last = line.slice(0, colon);
        current[last] = line.slice(colon + 1).trim();
    }
    flush();
    return stanzas;
}

/** The installed packages of a status file (status `install ok installed`: its last word is installed), sorted. */
export function installedPackages(statusText: string): DebPackage[] {
    const out: DebPackage[] = [];
    for (const s of parseStanzas(statusText)) {
        const status = (s.Status ?? "").split(/\s+/);
        if (!s.Package || !s.Version || status[status.length - 1] !== "installed") continue;
        const source = s.Source?.replace(/\s*\(.*\)\s*$/, "");
        out.push({
            name: s.Package,
            version: s.Version,
            architecture: s.Architecture ?? "all",
            ...(source && source !== s.Package ? { source } : {}),
            ...(s.Maintainer ? { maintainer: s.Maintainer } : {}),
            ...(s.Homepage ? { homepage: s.Homepage } : {}),
        });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0));
}

/** The installed packages of a root tree; undefined when it has no dpkg database (not Debian-based). */
export function debPackagesOfTree(root: string): DebPackage[] | undefined {
    const file = path.join(root, DPKG_STATUS);
    if (!fs.existsSync(file)) return undefined;
    return installedPackages(fs.readFileSync(file, "utf8"));
}
