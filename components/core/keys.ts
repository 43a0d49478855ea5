// Content keys: sha256 over canonical JSON of everything an artifact is built from.
import { createHash } from "crypto";
import { describeFolderChange, summarizeFiles } from "./fileSummary";
// canonicalize implements RFC 8785 (JSON Canonicalization Scheme): sorted keys, fixed number forms.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const canonicalize: (value: unknown) => string | undefined = require("canonicalize");

/** One input file as it enters a key: never mtime, owner, absolute path or group/other bits. */
export interface FileEntry {
    /** Path relative to the file set's root, with forward slashes. */
    path: string;
    sha256: string;
    executable: boolean;
}

export interface KeyMaterial {
    kind: string;
    /** Bumped when an artifact kind changes how it builds, so old keys stop matching. */
    recipeVersion: number;
    files: FileEntry[];
    params: Record<string, unknown>;
    /** Keys of the artifacts this one is built from, by their artifact name (Merkle). */
    upstream: Record<string, string>;
    /**
     * Digests of the external images a build starts from (`FROM debian:trixie` -> sha256:...),
     * components/images/pinning.ts. Absent when there is none, so such keys are as before.
     */
    images?: Record<string, string>;
    /**
     * Inputs that are neither files nor parameters, by the name the input summary gives them (e.g. a deps
     * image's `unit:tokio`); each enters the key and the summary as it is. Absent for most kinds.
     */
    entries?: Record<string, string>;
}

export function canonicalJson(value: unknown): string {
    const text = canonicalize(value);
    if (text === undefined) {
        throw new Error("value cannot be expressed as canonical JSON");
    }
    return text;
}

export function sha256Hex(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

export function computeKey(material: KeyMaterial): string {
    const files = [...material.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let i = 1; i < files.length; i++) {
        if (files[i].path === files[i - 1].path) {
            throw new Error(`file ${files[i].path} appears twice in the inputs of a ${material.kind}`);
        }
    }
    return sha256Hex(canonicalMaterial({ ...material, files }));
}

/**
 * canonicalJson of key material, the same text, with the file list written directly: one generic
 * canonicalization per file entry is most of a warm re-key's time on a large context.
 */
export function canonicalMaterial(material: KeyMaterial): string {
    const rest = canonicalJson({ ...material, files: [] });
    // Top-level keys are sorted and only `entries` (strings) comes before `files`: the first
    // `"files":[]` is the material's own.
    const at = rest.indexOf('"files":[]');
    const entry = (f: FileEntry) =>
        Object.keys(f).length === 3 && typeof f.executable === "boolean" && typeof f.path === "string" && typeof f.sha256 === "string"
            ? `{"executable":${f.executable},"path":${JSON.stringify(f.path)},"sha256":${JSON.stringify(f.sha256)}}`
            : canonicalJson(f);
    return `${rest.slice(0, at)}"files":[${material.files.map(entry).join(",")}]${rest.slice(at + '"files":[]'.length)}`;
}

/** The short form that goes into tags; the full key travels as an annotation. */
export function shortKey(key: string): string {
    return key.slice(0, 24);
}

/**
 * The flat map of inputs stored with each artifact, one entry per file (per directory above
 * FILE_ENTRY_LIMIT files: core/fileSummary.ts), parameter and upstream, so that a diff between two
 * runs names what changed.
 */
export function inputSummary(material: KeyMaterial): Record<string, string> {
    const summary: Record<string, string> = summarizeFiles(material.files);
    for (const [name, value] of Object.entries(material.params)) {
        summary[`param:${name}`] = canonicalJson(value ?? null);
    }
    for (const [name, key] of Object.entries(material.upstream)) {
        summary[`upstream:${name}`] = key;
    }
    for (const [name, digest] of Object.entries(material.images ?? {})) {
        summary[`image:${name}`] = digest;
    }
    for (const [name, value] of Object.entries(material.entries ?? {})) {
        summary[name] = value;
    }
    return summary;
}

export interface InputChanges {
    added: string[];
    removed: string[];
    changed: string[];
}

/** What differs between two input summaries, each list sorted. */
export function diffInputs(olds: Record<string, string>, news: Record<string, string>): InputChanges {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [name, value] of Object.entries(news)) {
        if (!(name in olds)) added.push(name);
        else if (olds[name] !== value) changed.push(name);
    }
    for (const name of Object.keys(olds)) {
        if (!(name in news)) removed.push(name);
    }
    return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}

/** A kind's own words for the input entries it names itself (KindDefinition.inputs). */
export interface EntryDescriber {
    /** Whether this kind describes the entry of that name. */
    covers(name: string): boolean;
    /** One reason per change among the covered entries of two summaries. */
    describe(olds: Record<string, string>, news: Record<string, string>): string[];
}

/** `FROM debian:trixie moved: sha256:1a2b... -> sha256:3c4d...`, for an `image:` entry of two input summaries. */
export function describeImageChange(entry: string, old: string | undefined, now: string | undefined): string {
    const what = entry.replace(/^image:/, "");
    if (old === undefined) return `${what} added (${now})`;
    if (now === undefined) return `${what} removed`;
    return `${what} moved: ${old} -> ${now}`;
}

/** A reason names this many changes, then how many more there are. */
export const REASONS_SHOWN = 20;

/**
 * One line a change, e.g. "changed file:Cargo.lock; added param:diskSize"; with the two summaries,
 * a moved external image reads "FROM debian:trixie moved: sha256:... -> sha256:...", and the entries a
 * kind's describer covers are said its way ("tokio 1.40.0 -> 1.41.0").
 */
export function describeInputChanges(changes: InputChanges, olds?: Record<string, string>, news?: Record<string, string>, describer?: EntryDescriber): string {
    const own = describer && olds && news ? describer : undefined;
    const generic = (names: string[]) => (own ? names.filter((n) => !own.covers(n)) : names);
    const parts = [
        ...(own ? own.describe(olds as Record<string, string>, news as Record<string, string>) : []),
        ...generic(changes.changed).map((n) =>
            n.startsWith("image:") && olds && news ? describeImageChange(n, olds[n], news[n]) : n.startsWith("files:") && olds && news ? describeFolderChange(n, olds[n], news[n]) : `changed ${n}`,
        ),
        ...generic(changes.added).map((n) => (n.startsWith("files:") && news ? describeFolderChange(n, undefined, news[n]) : `added ${n}`)),
        ...generic(changes.removed).map((n) => (n.startsWith("files:") && olds ? describeFolderChange(n, olds[n], undefined) : `removed ${n}`)),
    ];
    if (parts.length > REASONS_SHOWN) return `${parts.slice(0, REASONS_SHOWN).join("; ")}; and ${parts.length - REASONS_SHOWN} more`;
    return parts.length ? parts.join("; ") : "no input changed";
}
