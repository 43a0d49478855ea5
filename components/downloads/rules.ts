// What each tool prints when it downloads, as data: one table per tool. Adding a tool means adding a
// table here (and fixture lines with their expected counts under test/fixtures/downloads/).
//
// Rule kinds, tried in table order, first match wins (a matched line is consumed):
// - item:  one downloaded thing. Named groups: `item` (name), `version` (name becomes item@version),
//          `size` + `unit` (bytes, when printed). `awaitsSize`: a later `size` line of this tool
//          gives its bytes (rustup, makepkg, git clone).
// - size:  bytes of the tool's item waiting for its size; matches only while one is waiting, so the
//          line otherwise falls through to later tables (makepkg's curl progress, git's receive line).
// - total: the tool's own printed total (`count`, `size` + `unit`): never an item. It gives the tool's
//          bytes when its item lines print none (cargo), and checks them otherwise.
// - skip:  a line that looks like a download but is not one (index, metadata, cache hits); also
//          ends any wait for a size (rustup's "installing component" progress is not a download).
// A rule may also name its item with `name` (a fixed name, or a function of the groups).

export type RuleKind = "item" | "size" | "total" | "skip";

export interface DownloadRule {
    kind: RuleKind;
    pattern: RegExp;
    awaitsSize?: boolean;
    name?: string | ((groups: Record<string, string | undefined>) => string);
}

export interface ToolRules {
    tool: string;
    rules: DownloadRule[];
    /** Sizes printed with ambiguous units (K, KB, M, MB) are powers of 1024 (IEC units always are). */
    binaryUnits?: boolean;
    /** Count an item name once (a tool that prints the same download twice, e.g. go with -x). */
    dedupe?: boolean;
    /** What to do so a warm run downloads nothing from this tool. */
    suggestion: string;
}

const SIZE = String.raw`(?<size>\d[\d,.]*) ?(?<unit>[kKMGT]?i?B|bytes|[kKMGT])`;
const baseName = (g: Record<string, string | undefined>) => (g.item ?? "").split("/").pop() as string;
const goModule = (g: Record<string, string | undefined>) => `${(g.item ?? "").replace(/!([a-z])/g, (_, c: string) => c.toUpperCase())}@${g.version}`;

export const DOWNLOAD_TABLES: ToolRules[] = [
    {
        tool: "apt",
        suggestion: "bake the packages into an image (DebianRootfs `packages`, or a BaseImage that installs them) instead of installing them on every run",
        rules: [
            // "Get:12 <uri> trixie/main amd64 libc6 amd64 2.41-12 [2,851 kB]"; index files ("Get:1 <uri>
            // trixie InRelease [140 kB]", "... amd64 Packages [9678 kB]") have fewer fields and never match.
            { kind: "item", pattern: /^Get:\d+ \S+ \S+ \S+ (?<item>[a-z0-9][a-z0-9+.-]+) [a-z0-9-]+ (?<version>[^\s\[]*\d[^\s\[]*) \[(?<size>[\d,.]+) (?<unit>[kMG]?B)\]$/ },
            // "Fetched 66.3 kB in 0s (1952 kB/s)": apt's own total
            { kind: "total", pattern: /^Fetched (?<size>[\d,.]+) (?<unit>[kMG]?B) in / },
        ],
    },
    {
        tool: "debootstrap",
        suggestion: "publish the tree once as a DebianRootfs artifact and start images FROM it",
        // "I: Retrieving libc6 2.41-12" (index files, "I: Retrieving InRelease", print no version)
        rules: [{ kind: "item", pattern: /^I: Retrieving (?<item>[a-z0-9][a-z0-9+.-]+) (?<version>\S*\d\S*)$/ }],
    },
    {
        tool: "cargo",
        binaryUnits: true,
        suggestion: "build in a CargoDepsImage (its crates are fetched and compiled once per recipe), or cache CARGO_HOME's registry/ and git/ between runs",
        rules: [
            // "  Downloaded 5 crates (167.0KiB) in 0.08s": cargo's total, printed with a progress bar, not a crate
            { kind: "total", pattern: /^\s*Downloaded (?<count>\d+) crates? \((?<size>[\d.]+) ?(?<unit>[KMGT]?i?B)\) in [\d.]+m?s$/ },
            // "  Downloaded itoa v1.0.11", "  Downloaded foo v1.0.0 (registry `corp`)"
            { kind: "item", pattern: /^\s*Downloaded (?<item>[A-Za-z0-9_-]+) v(?<version>\d\S*)(?: \(registry `[^`]+`\))?$/ },
        ],
    },
    {
        tool: "rustup",
        binaryUnits: true,
        suggestion: "use an image with the toolchain installed (a BaseImage), or cache RUSTUP_HOME keyed by rust-toolchain.toml",
        rules: [
            { kind: "item", awaitsSize: true, pattern: /^info: downloading component '(?<item>[^']+)'$/ },
            // The channel manifest's download and the unpacking progress are not component downloads.
            { kind: "skip", pattern: /^info: (?:syncing channel updates|installing component|latest update|removing|rolling back)/ },
            // "  65.2 MiB /  65.2 MiB (100 %)   3.9 MiB/s in 24s ETA:  0s"
            { kind: "size", pattern: /^\s*(?<size>[\d.]+) (?<unit>[KMGT]?i?B) \/\s*[\d.]+ [KMGT]?i?B \(100 %\)/ },
        ],
    },
    {
        tool: "makepkg",
        binaryUnits: true,
        suggestion: "keep SRCDEST on a cache that outlives the run, or build the package once into an image",
        rules: [
            // "  -> Downloading foo-1.0.tar.gz..." (then the download agent's meter, curl by default).
            // "  -> Cloning foo git repo..." is no item here: git's own "Cloning into bare repository"
            // and "Receiving objects" lines count it, once.
            { kind: "item", awaitsSize: true, pattern: /^\s*-> Downloading (?<item>\S+?)\.\.\.$/ },
            // curl's last meter frame gives the size of makepkg's item, not an item of its own.
            { kind: "size", pattern: /^\s*100\s+(?<size>[\d.]+)(?<unit>[kMGTP]?)\s+100\s+[\d.]+[kMGTP]?\s/ },
        ],
    },
    {
        tool: "pacman",
        binaryUnits: true,
        dedupe: true,
        suggestion: "install the packages into an image once (a BaseImage), or keep /var/cache/pacman/pkg between runs",
        rules: [
            // Sync databases (" core downloading...", " core is up to date", " extra  8.4 MiB ... 100%") are not packages.
            { kind: "skip", pattern: /^\s*(?:core|extra|community|multilib|testing|[a-z0-9_-]+\.(?:db|files))(?: downloading\.\.\.| is up to date|\s+[\d.]+ [KMG]?i?B\s)/ },
            { kind: "total", pattern: /^Total Download Size:\s+(?<size>[\d.]+) (?<unit>[KMGT]?i?B)$/ },
            { kind: "total", pattern: /^\s*Total \(\d+\/(?<count>\d+)\)\s+(?<size>[\d.]+) (?<unit>[KMGT]?i?B)\s/ },
            // " linux-6.1.1.arch1-1-x86_64 downloading..." (no terminal), or its finished bar on a terminal
            { kind: "item", pattern: /^\s*(?<item>[a-z0-9@._+-]+?)-(?<version>(?:\d+:)?[^\s:-]+-[\d.]+)-(?:x86_64|i686|any|aarch64|armv7h|pentium4|riscv64) downloading\.\.\.$/ },
            { kind: "item", pattern: /^\s*(?<item>[a-z0-9@._+-]+?)-(?<version>(?:\d+:)?[^\s:-]+-[\d.]+)-(?:x86_64|i686|any|aarch64|armv7h|pentium4|riscv64)\s+(?<size>[\d.]+) (?<unit>[KMGT]?i?B)\s.*100%$/ },
        ],
    },
    {
        tool: "git",
        binaryUnits: true,
        suggestion: "cache the clone (or bake it into an image) and fetch only what changed; use --depth 1 for one-off checkouts",
        rules: [
            // A clone is one item; its "Receiving objects ... done." line gives the bytes. A fetch prints
            // only that line, so then the line itself is the item.
            { kind: "item", awaitsSize: true, name: baseName, pattern: /^Cloning into (?:bare repository )?'(?<item>[^']+)'\.\.\.$/ },
            { kind: "size", pattern: /^Receiving objects: 100% \(\d+\/\d+\), (?<size>[\d.]+) (?<unit>bytes|[KMG]iB)(?: \| [^,]*)?, done\.$/ },
            { kind: "item", name: "fetch", pattern: /^Receiving objects: 100% \(\d+\/\d+\)(?:, (?<size>[\d.]+) (?<unit>bytes|[KMG]iB))?(?: \| [^,]*)?, done\.$/ },
        ],
    },
    {
        tool: "dnf",
        // dnf and yum print powers of 1024 as "k"/"M" (format_number), with a "B" appended.
        binaryUnits: true,
        suggestion: "install the packages into an image once (a BaseImage), or keep dnf's cache (keepcache=1) between runs",
        rules: [
            // dnf: "(1/2): tree-1.8.0-10.el9.x86_64.rpm   1.1 MB/s |  56 kB     00:00"; yum prints no rate:
            // "(1/2): tree-1.6.0-10.el7.x86_64.rpm      |  46 kB  00:00:00". Repository metadata lines
            // ("Fedora 39 - x86_64   12 MB/s |  89 MB   00:07", "base/7/x86_64/primary_db | 6.1 MB") carry
            // no "(n/m):" and no .rpm.
            { kind: "item", pattern: /^\(\d+\/\d+\): (?<item>\S+\.rpm)\s+(?:[\d.]+ [kMG]?B\/s )?\|\s*(?<size>[\d.]+) (?<unit>[kMG]?B)\s/ },
            { kind: "total", pattern: /^Total\s+(?:[\d.]+ [kMG]?B\/s )?\|\s*(?<size>[\d.]+) (?<unit>[kMG]?B)\s/ },
        ],
    },
    {
        tool: "pip",
        suggestion: "install into an image once, or keep pip's cache (PIP_CACHE_DIR) or a wheelhouse between runs",
        rules: [
            // "  Downloading six-1.17.0-py2.py3-none-any.whl (11 kB)"; "....whl.metadata (1.7 kB)" is metadata only
            { kind: "item", name: baseName, pattern: /^\s*Downloading (?<item>\S+?\.(?:whl|tar\.gz|tar\.bz2|zip|tgz))(?: \((?<size>[\d.]+) ?(?<unit>[kMG]?B|bytes)\))?$/ },
        ],
    },
    {
        tool: "npm",
        suggestion: "run `npm ci` in an image built once per package-lock.json, or cache ~/.npm between runs",
        rules: [
            // "npm http fetch GET 200 <registry>/is-odd/-/is-odd-3.0.1.tgz 311ms (cache miss)"; packuments
            // (no .tgz), audit POSTs, cache hits and revalidations are not downloads.
            { kind: "skip", pattern: /^npm http fetch GET \d+ \S+ [\d.]+m?s \(cache (?:hit|revalidated)\)/ },
            { kind: "item", pattern: /^npm http fetch GET 200 \S*?\/(?<item>(?:@[^/\s]+\/)?[^/\s]+)\/-\/[^/\s]+?-(?<version>\d+\.\d+\.\d+[^/\s]*)\.tgz\b/ },
        ],
    },
    {
        tool: "go",
        dedupe: true,
        suggestion: "build in an image with the module cache filled (go mod download in an earlier layer), or cache GOMODCACHE between runs",
        rules: [
            // go mod download -x: "# get <proxy>/github.com/google/uuid/@v/v1.6.0.zip: 200 OK (0.002s)";
            // .mod/.info/sumdb lookups are metadata. go build/get: "go: downloading github.com/x/y v1.2.3".
            { kind: "item", name: goModule, pattern: /^# get [a-z]+:\/\/[^/\s]+\/(?<item>\S+?)\/@v\/(?<version>[^/\s]+)\.zip: 200 OK/ },
            { kind: "item", name: (g) => `${g.item}@${g.version}`, pattern: /^go: downloading (?<item>\S+) (?<version>v\S+)$/ },
        ],
    },
    {
        tool: "curl",
        binaryUnits: true,
        suggestion: "download once into an image or a cache keyed by the URL and checksum",
        // The meter's last frame: "100 1269k  100 1269k    0     0  1675k      0 --:--:-- ..."
        rules: [{ kind: "item", name: "curl", pattern: /^\s*100\s+(?<size>[\d.]+)(?<unit>[kMGTP]?)\s+100\s+[\d.]+[kMGTP]?\s+\d/ }],
    },
    {
        tool: "wget",
        suggestion: "download once into an image or a cache keyed by the URL and checksum",
        rules: [
            // "2026-11-23 12:00:57 (1.66 MB/s) - 'data.bin' saved [2100000/2100000]" (any quote style)
            { kind: "item", name: baseName, pattern: /^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )?\([^)]*\) - [‘'"«`](?<item>[^’'"»`]+)[’'"»`] saved \[(?<size>\d+)(?:\/\d+)?\]$/ },
            // wget -nv: "2026-11-23 12:00:57 URL:<url> [2100000/2100000] -> "data.bin" [1]"
            { kind: "item", name: baseName, pattern: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d URL:\S+ \[(?<size>\d+)(?:\/\d+)?\] -> "(?<item>[^"]+)" \[\d+\]$/ },
        ],
    },
];

export function sizeInBytes(size: string, unit: string | undefined, binaryUnits: boolean): number {
    // "2,851" (thousands) or "78,4" (a decimal comma)
    const text = /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(size) ? size.replace(/,/g, "") : size.replace(",", ".");
    const value = parseFloat(text);
    if (!isFinite(value)) return 0;
    const u = unit ?? "B";
    if (u === "B" || u === "bytes" || u === "") return Math.round(value);
    const power = "KMGTP".indexOf(u[0].toUpperCase()) + 1;
    const base = u.includes("i") || binaryUnits ? 1024 : 1000;
    return Math.round(value * Math.pow(base, power));
}
