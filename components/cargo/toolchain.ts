// rust-toolchain / rust-toolchain.toml, parsed to what selects the compiler: channel, components, and
// whether the compile target is among the listed targets. Comments, layout, `profile` (which only picks
// what rustup installs besides the compiler) and other targets never count.
import { isTable } from "./manifest";
import { parseTomlText } from "./members";

export interface ToolchainKey {
    /** The file it came from. */
    file: string;
    channel: string | null;
    /** A custom toolchain path, when the file names one. */
    path: string | null;
    components: string[];
    /** The listed targets that builds for `target` use (the target itself, if listed). */
    targets: string[];
}

/**
 * The toolchain key of a workspace, from the texts of `rust-toolchain` and `rust-toolchain.toml` (as rustup
 * reads them: `rust-toolchain` first when both exist); null when there is neither.
 */
export function parseToolchain(files: { legacy?: string; toml?: string }, target: string, label = "."): ToolchainKey | null {
    const [file, text] = files.legacy !== undefined ? ["rust-toolchain", files.legacy] : files.toml !== undefined ? ["rust-toolchain.toml", files.toml] : [undefined, undefined];
    if (file === undefined || text === undefined) return null;
    const trimmed = text.trim();
    // The legacy file may hold just a channel name on one line.
    if (file === "rust-toolchain" && !trimmed.includes("[") && !trimmed.includes("=") && trimmed.split(/\s+/).length === 1) {
        return { file, channel: trimmed, path: null, components: [], targets: [] };
    }
    const doc = parseTomlText(text, `${label.replace(/\/+$/, "")}/${file}`);
    const t = isTable(doc.toolchain) ? doc.toolchain : {};
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    return {
        file,
        channel: typeof t.channel === "string" ? t.channel : null,
        path: typeof t.path === "string" ? t.path : null,
        components: [...new Set(list(t.components))].sort(),
        targets: list(t.targets).filter((x) => x === target).slice(0, 1),
    };
}
