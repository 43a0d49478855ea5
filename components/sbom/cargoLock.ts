// The Rust crates a deps image compiles, for its SBOM: the external packages of its Cargo.lock
// (those with a source: a registry or a git repository; local workspace members have none).
import { parse as parseToml } from "smol-toml";
import { stripCredentials } from "../core/gitState";

export interface Crate {
    name: string;
    version: string;
    /** `registry+...`, `sparse+...` or `git+...`, credentials stripped. */
    source: string;
    /** sha256 of the .crate file, as the lock records it for registry packages. */
    checksum?: string;
}

export function externalCrates(lockText: string): Crate[] {
    const lock = parseToml(lockText) as { package?: { name?: string; version?: string; source?: string; checksum?: string }[] };
    const crates: Crate[] = [];
    for (const p of lock.package ?? []) {
        if (!p.name || !p.version || !p.source) continue;
        const plus = p.source.indexOf("+");
        const source = plus > 0 ? `${p.source.slice(0, plus + 1)}${stripCredentials(p.source.slice(plus + 1))}` : p.source;
        crates.push({ name: p.name, version: p.version, source, ...(p.checksum && /^[0-9a-f]{64}$/.test(p.checksum) ? { checksum: p.checksum } : {}) });
    }
    return crates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}
