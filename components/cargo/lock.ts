// Cargo.lock reduced to what the kept local packages reach, local versions masked, sorted.
import { byString, canonicalToml, tablesOf, Table } from "./manifest";
import { MASKED_VERSION } from "./mask";

interface LockRef {
    name: string;
    version?: string;
    source?: string;
}

function parseLockRef(ref: string): LockRef {
    const m = /^(\S+)(?: (\S+))?(?: \((.+)\))?$/.exec(ref);
    return m ? { name: m[1], version: m[2], source: m[3] } : { name: ref };
}

/**
 * Cargo.lock reduced to the packages reachable from the kept local packages, local versions (and
 * references to them) masked, sorted.
 */
export function normalizeLock(doc: Table, keptNames: Set<string>, maskedNames: Set<string>): string {
    const packages = tablesOf(doc.package);
    const byName = new Map<string, Table[]>();
    for (const p of packages) {
        const name = String(p.name);
        byName.set(name, [...(byName.get(name) ?? []), p]);
    }
    const resolve = (ref: LockRef): Table | undefined => {
        const candidates = (byName.get(ref.name) ?? []).filter(
            (p) => (ref.version === undefined || p.version === ref.version) && (ref.source === undefined || p.source === ref.source),
        );
        return candidates.length === 1 ? candidates[0] : undefined;
    };
    const isLocal = (p: Table): boolean => p.source === undefined;

    const reachable = new Set<Table>();
    const stack = packages.filter((p) => isLocal(p) && keptNames.has(String(p.name)));
    while (stack.length) {
        const p = stack.pop() as Table;
        if (reachable.has(p)) continue;
        reachable.add(p);
        for (const dep of Array.isArray(p.dependencies) ? p.dependencies : []) {
            const target = typeof dep === "string" ? resolve(parseLockRef(dep)) : undefined;
            if (target) stack.push(target);
        }
    }

    const masked = (p: Table | undefined): boolean => p !== undefined && isLocal(p) && maskedNames.has(String(p.name));
    const kept = packages
        .filter((p) => reachable.has(p))
        .map((p) => {
            const copy: Table = { ...p };
            if (masked(p)) copy.version = MASKED_VERSION;
            if (Array.isArray(p.dependencies)) {
                copy.dependencies = p.dependencies.map((dep) => {
                    if (typeof dep !== "string") return dep;
                    const ref = parseLockRef(dep);
                    return ref.version !== undefined && ref.source === undefined && masked(resolve(ref)) ? `${ref.name} ${MASKED_VERSION}` : dep;
                });
            }
            return copy;
        })
        .sort((a, b) => byString(String(a.name), String(b.name)) || byString(String(a.version), String(b.version)) || byString(String(a.source ?? ""), String(b.source ?? "")));
    const out: Table = { ...doc };
    if (kept.length) out.package = kept;
    else delete out.package;
    return canonicalToml(out);
}
