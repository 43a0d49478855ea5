// What a Containerfile builds from: every image its stages start from (FROM) or copy out of
// (COPY --from=<image>), after ARG defaults and build args are substituted, with the place each
// is written; and the text rewritten so each external image is pinned by digest. Pure: the
// parsing is dockerfile-ast's, resolution is the caller's (components/images/pinning.ts).
import { Arg, Copy, DockerfileParser, From } from "dockerfile-ast";

/** Build args BuildKit and buildah predefine; warmrun builds linux/amd64. */
export const PLATFORM_ARGS: Record<string, string> = {
    TARGETPLATFORM: "linux/amd64",
    TARGETOS: "linux",
    TARGETARCH: "amd64",
    TARGETVARIANT: "",
    BUILDPLATFORM: "linux/amd64",
    BUILDOS: "linux",
    BUILDARCH: "amd64",
    BUILDVARIANT: "",
};

export type ImageUse = "FROM" | "COPY --from";

/** One place a Containerfile names an image. */
export interface ImageMention {
    use: ImageUse;
    /** 1-based line of the image's text (after line continuations, where the name itself is). */
    line: number;
    /** The text as written, e.g. `${BASE}` or `debian:${SUITE}`. */
    written: string;
    /** After substitution, e.g. `debian:trixie`; undefined when a variable had no value. */
    value?: string;
    /** Variables the text uses. */
    variables: string[];
    /** Variables without a value (no default, no build arg): the mention cannot be resolved. */
    unset: string[];
    /** The stack upstream the text names through its build arg (BASE, UPSTREAM_<NAME>). */
    upstreamArg?: string;
    /** Index of the stage it belongs to. */
    stage: number;
    /** Character offsets of the image text in the Containerfile (for rewriting). */
    start: number;
    end: number;
}

export interface Stage {
    index: number;
    /** `AS name`, lower-cased (stage names are case-insensitive). */
    name?: string;
    /** 1-based line of the FROM. */
    line: number;
    /** What the stage starts from: another stage, scratch, or an image mention. */
    from: { stage: number } | { scratch: true } | { image: ImageMention };
}

export interface ContainerfileImages {
    stages: Stage[];
    /** Every image mention that is not a stage, not scratch, not a stage index. */
    images: ImageMention[];
}

export interface AnalyzeOptions {
    /** The build args the build gets (the user's and the upstreams'). */
    buildArgs: Record<string, string>;
    /**
     * Names of build args that carry a stack upstream's pinned reference (BASE, UPSTREAM_<NAME>)
     * and that the user's own build args do not override: an image written with one of them is
     * the upstream, pinned by the stack, never resolved here.
     */
    upstreamArgs: string[];
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Substitutes `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}` (and `-`, `+` without the colon). */
export function substitute(text: string, lookup: (name: string) => string | undefined): { value: string; variables: string[]; unset: string[] } {
    const variables: string[] = [];
    const unset: string[] = [];
    const value = text.replace(VARIABLE, (_m, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
        const name = braced ?? bare ?? "";
        variables.push(name);
        const v = lookup(name);
        if (op === ":-") return v === undefined || v === "" ? word! : v;
        if (op === "-") return v === undefined ? word! : v;
        if (op === ":+") return v === undefined || v === "" ? "" : word!;
        if (op === "+") return v === undefined ? "" : word!;
        if (v === undefined) unset.push(name);
        return v ?? "";
    });
    return { value, variables: [...new Set(variables)], unset: [...new Set(unset)] };
}

function argOf(a: Arg): { name: string; value?: string } | undefined {
    const p = a.getProperty();
    if (!p) return undefined;
    const v = p.getValue();
    return { name: p.getName(), ...(v !== null ? { value: v } : {}) };
}

/**
 * Finds the stages and the images of a Containerfile. FROM lines see only the ARGs declared
 * before the first FROM (with build args overriding their defaults); COPY --from also sees the
 * ARGs of its own stage, as BuildKit and buildah do.
 */
export function analyzeContainerfile(text: string, opts: AnalyzeOptions): ContainerfileImages {
    const dockerfile = DockerfileParser.parse(text);
    const lineStarts = [0];
    for (const m of text.matchAll(/\r\n|\r|\n/g)) lineStarts.push(m.index! + m[0].length);
    const offsetAt = (p: { line: number; character: number }): number => (lineStarts[p.line] ?? text.length) + p.character;
    const buildArg = (name: string): string | undefined => (name in opts.buildArgs ? opts.buildArgs[name] : undefined);
    const global = new Map<string, string | undefined>(Object.entries(PLATFORM_ARGS));
    const stages: Stage[] = [];
    const images: ImageMention[] = [];
    let scope = new Map<string, string | undefined>();

    const mention = (use: ImageUse, written: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }, vars: Map<string, string | undefined>): ImageMention => {
        const sub = substitute(written, (n) => vars.get(n));
        const upstreamArg = sub.variables.find((v) => opts.upstreamArgs.includes(v));
        return {
            use,
            line: range.start.line + 1,
            written,
            ...(sub.unset.length ? {} : { value: sub.value }),
            variables: sub.variables,
            unset: sub.unset,
            ...(upstreamArg ? { upstreamArg } : {}),
            stage: Math.max(0, stages.length - 1),
            start: offsetAt(range.start),
            end: offsetAt(range.end),
        };
    };
    const stageNamed = (value: string): number | undefined => {
        const lower = value.toLowerCase();
        const byName = stages.findIndex((s) => s.name === lower);
        return byName >= 0 ? byName : undefined;
    };

    for (const ins of dockerfile.getInstructions()) {
        if (ins instanceof Arg) {
            const a = argOf(ins);
            if (!a) continue;
            if (stages.length === 0) {
                global.set(a.name, buildArg(a.name) ?? a.value);
            } else {
                // Inside a stage an ARG without a default takes the global one's value.
                scope.set(a.name, buildArg(a.name) ?? a.value ?? global.get(a.name));
            }
        } else if (ins instanceof From) {
            const written = ins.getImage();
            const range = ins.getImageRange();
            const line = ins.getRange().start.line + 1;
            const name = ins.getBuildStage()?.toLowerCase();
            scope = new Map();
            for (const [k, v] of Object.entries(PLATFORM_ARGS)) scope.set(k, v);
            if (written === null || range === null) {
                stages.push({ index: stages.length, ...(name ? { name } : {}), line, from: { scratch: true } });
                continue;
            }
            const m = mention("FROM", written, range, global);
            const value = m.value ?? written;
            const previous = stageNamed(value);
            let from: Stage["from"];
            if (previous !== undefined) from = { stage: previous };
            else if (value.toLowerCase() === "scratch") from = { scratch: true };
            else from = { image: { ...m, stage: stages.length } };
            stages.push({ index: stages.length, ...(name ? { name } : {}), line, from });
            if ("image" in from) images.push(from.image);
        } else if (ins instanceof Copy) {
            const flag = ins.getFromFlag();
            const written = flag?.getValue();
            const range = flag?.getValueRange();
            if (!flag || !written || !range) continue;
            const vars = new Map([...global, ...scope]);
            const m = mention("COPY --from", written, range, vars);
            const value = m.value ?? written;
            if (/^\d+$/.test(value) || stageNamed(value) !== undefined) continue;
            images.push(m);
        }
    }
    return { stages, images };
}

/** The stage a build stops at: `target` (by name), else the last. */
export function targetStage(stages: Stage[], target?: string): Stage | undefined {
    if (target === undefined) return stages[stages.length - 1];
    return stages.find((s) => s.name === target.toLowerCase());
}

/** What the target stage is built on, following stage to stage: an image mention, or none (scratch). */
export function baseOf(stages: Stage[], target?: string): ImageMention | undefined {
    let stage = targetStage(stages, target);
    for (let hops = 0; stage && hops <= stages.length; hops++) {
        const from: Stage["from"] = stage.from;
        if ("image" in from) return from.image;
        if ("scratch" in from) return undefined;
        stage = stages[from.stage];
    }
    return undefined;
}

/** Replaces the text of the given mentions (by their offsets), leaving every other byte as it was. */
export function rewriteImages(text: string, replacements: { mention: ImageMention; with: string }[]): string {
    const sorted = [...replacements].sort((a, b) => b.mention.start - a.mention.start);
    let out = text;
    for (const r of sorted) out = out.slice(0, r.mention.start) + r.with + out.slice(r.mention.end);
    return out;
}

/**
 * The Containerfile with one LABEL instruction of `labels` at the end of the stage the build stops
 * at. buildah turns each `--label` into a step of its own, and with `--layers` each such step
 * commits and pushes a cache entry; one instruction is one step.
 */
export function withLabelInstruction(text: string, labels: Record<string, string>, target?: string): string {
    const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
    if (entries.length === 0) return text;
    const instruction = `LABEL ${entries.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(" ")}`;
    const { stages } = analyzeContainerfile(text, { buildArgs: {}, upstreamArgs: [] });
    const stage = targetStage(stages, target);
    const next = stage ? stages[stage.index + 1] : undefined;
    // The file's own line ending, so a CRLF Containerfile stays one.
    const eol = text.includes("\r\n") ? "\r\n" : "\n";
    if (!next) return `${text}${text === "" || text.endsWith("\n") ? "" : eol}${instruction}${eol}`;
    const lines = text.split("\n");
    lines.splice(next.line - 1, 0, eol === "\r\n" ? `${instruction}\r` : instruction);
    return lines.join("\n");
}
