// Cargo's version requirements (`"1.2"` is `^1.2`, not npm's `1.2.x`), enough to tell which locked
// version of a crate a dependency declaration refers to.

export interface Version {
    major: number;
    minor: number;
    patch: number;
    pre: string[];
}

export function parseVersion(text: string): Version | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim());
    if (!m) return undefined;
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

function comparePre(a: string[], b: string[]): number {
    if (a.length === 0 || b.length === 0) return b.length - a.length; // a release sorts after its pre-releases
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const an = /^\d+$/.test(a[i]);
        const bn = /^\d+$/.test(b[i]);
        if (an && bn) {
            const d = Number(a[i]) - Number(b[i]);
            if (d) return d;
        } else if (an !== bn) return an ? -1 : 1;
        else if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return a.length - b.length;
}

export function compareVersions(a: Version, b: Version): number {
    return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

type Op = "=" | ">" | ">=" | "<" | "<=" | "~" | "^" | "*";

interface Comparator {
    op: Op;
    major: number;
    minor?: number;
    patch?: number;
    pre: string[];
}

function parseComparator(text: string): Comparator | undefined {
    const m = /^(=|>=|>|<=|<|~|\^)?\s*(.*)$/.exec(text.trim());
    if (!m) return undefined;
    const body = m[2].replace(/\+[0-9A-Za-z.-]+$/, "");
    if (body === "*" || body === "x" || body === "X") return { op: "*", major: 0, pre: [] };
    const vm = /^(\d+)(?:\.(\d+|\*|x|X))?(?:\.(\d+|\*|x|X))?(?:-([0-9A-Za-z.-]+))?$/.exec(body);
    if (!vm) return undefined;
    const num = (s: string | undefined): number | undefined => (s === undefined || !/^\d+$/.test(s) ? undefined : Number(s));
    let op = (m[1] as Op | undefined) ?? "^";
    const minor = num(vm[2]);
    const patch = minor === undefined ? undefined : num(vm[3]);
    // A wildcard without an operator (`1.*`) behaves like `=1`.
    if (m[1] === undefined && (vm[2] !== undefined && minor === undefined || vm[3] !== undefined && patch === undefined)) op = "=";
    return { op, major: Number(vm[1]), minor, patch, pre: vm[4] ? vm[4].split(".") : [] };
}

function matchesComparator(c: Comparator, v: Version): boolean {
    const lower = (): Version => ({ major: c.major, minor: c.minor ?? 0, patch: c.patch ?? 0, pre: c.pre });
    const cmp = compareVersions(v, lower());
    switch (c.op) {
        case "*":
            return true;
        case "=":
            if (c.minor === undefined) return v.major === c.major;
            if (c.patch === undefined) return v.major === c.major && v.minor === c.minor;
            return cmp === 0;
        case ">":
            if (c.minor === undefined) return v.major > c.major;
            if (c.patch === undefined) return v.major > c.major || (v.major === c.major && v.minor > c.minor);
            return cmp > 0;
        case ">=":
            return cmp >= 0;
        case "<":
            return cmp < 0;
        case "<=":
            if (c.minor === undefined) return v.major <= c.major;
            if (c.patch === undefined) return v.major < c.major || (v.major === c.major && v.minor <= c.minor);
            return cmp <= 0;
        case "~":
            if (cmp < 0 || v.major !== c.major) return false;
            return c.minor === undefined || v.minor === c.minor;
        case "^":
            if (cmp < 0 || v.major !== c.major) return false;
            if (c.major > 0 || c.minor === undefined) return true;
            if (v.minor !== c.minor) return false;
            return c.minor > 0 || c.patch === undefined || v.patch === c.patch;
    }
}

const reqCache = new Map<string, Comparator[] | null>();

function comparatorsOf(req: string): Comparator[] | null {
    let cs = reqCache.get(req);
    if (cs === undefined) {
        const parts = req.split(",").map((p) => p.trim()).filter(Boolean);
        const parsed = parts.map(parseComparator);
        cs = parsed.some((p) => p === undefined) ? null : (parsed as Comparator[]);
        if (cs !== null && cs.length === 0) cs = [{ op: "*", major: 0, pre: [] }];
        reqCache.set(req, cs);
    }
    return cs;
}

const satisfied = new Map<string, boolean>();
const SATISFIED_MAX = 1 << 16;

/** Whether `version` satisfies the Cargo requirement `req`; an unparsable requirement matches nothing. */
export function satisfies(version: string, req: string | undefined): boolean {
    const key = `${version} ${req ?? ""}`;
    let answer = satisfied.get(key);
    if (answer === undefined) {
        answer = satisfiesUncached(version, req);
        if (satisfied.size >= SATISFIED_MAX) satisfied.clear();
        satisfied.set(key, answer);
    }
    return answer;
}

function satisfiesUncached(version: string, req: string | undefined): boolean {
    const v = parseVersion(version);
    if (!v) return false;
    const cs = comparatorsOf(req === undefined || req === "" ? "*" : req);
    if (!cs) return false;
    if (!cs.every((c) => matchesComparator(c, v))) return false;
    // A pre-release only matches a comparator naming a pre-release of the same major.minor.patch.
    if (v.pre.length === 0) return true;
    return cs.some((c) => c.pre.length > 0 && c.major === v.major && c.minor === v.minor && c.patch === v.patch);
}
