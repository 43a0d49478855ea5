// The compiled JavaScript of a checkout (dist/), keyed by its sources: a sha256 over the build's
// tsconfig files, package-lock.json and every .ts file the build compiles (the tsconfig's `files`
// and the directories of its `include` patterns), path and content. The build writes the key it was
// made from into dist/.build-key; the loader runs dist/ only when that key is the sources' key now,
// so an edited source never runs as stale JavaScript (the loader falls back to ts-node instead).
"use strict";
const fs = require("fs");
const path = require("path");
const { createHash } = require("crypto");

const ROOT = path.resolve(__dirname, "..");
const BUILD_TSCONFIG = "tsconfig.build.json";
const KEY_FILE = ".build-key";
const DIST = "dist";

function walkTs(root, rel, out) {
    let entries;
    try {
        entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
        return;
    }
    for (const e of entries) {
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
            if (e.name !== "node_modules") walkTs(root, child, out);
        } else if (e.name.endsWith(".ts")) out.push(child);
    }
}

/** The files the key covers, relative to `root`, sorted; undefined where the build's tsconfig is missing. */
function keyInputs(root = ROOT) {
    let build;
    try {
        build = JSON.parse(fs.readFileSync(path.join(root, BUILD_TSCONFIG), "utf8"));
    } catch {
        return undefined;
    }
    const files = new Set(["package-lock.json", "tsconfig.json", BUILD_TSCONFIG, ...(build.files || [])]);
    for (const pattern of build.include || []) {
        // Patterns are "<dir>/**/*.ts": the whole directory's .ts files.
        const m = /^(.*?)\/\*\*\/\*\.ts$/.exec(pattern);
        if (!m) throw new Error(`${BUILD_TSCONFIG}: include pattern ${pattern} is not "<dir>/**/*.ts"`);
        const found = [];
        walkTs(root, m[1], found);
        for (const f of found) files.add(f);
    }
    return [...files].sort();
}

/** The sources' key now, or undefined where a file it covers is missing. */
function sourceKey(root = ROOT) {
    const inputs = keyInputs(root);
    if (!inputs) return undefined;
    const h = createHash("sha256");
    for (const rel of inputs) {
        let content;
        try {
            content = fs.readFileSync(path.join(root, rel));
        } catch {
            return undefined;
        }
        h.update(`${rel}\0${content.length}\0`).update(content);
    }
    return h.digest("hex");
}

function builtKey(root = ROOT) {
    try {
        return fs.readFileSync(path.join(root, DIST, KEY_FILE), "utf8").trim();
    } catch {
        return undefined;
    }
}

/** dist/ was built from the sources as they are now. */
function isFresh(root = ROOT) {
    const built = builtKey(root);
    return built !== undefined && built === sourceKey(root);
}

const freshMemo = new Map();
/** isFresh, checked once per process and root (a process runs one version of the code). */
function distIsFresh(root = ROOT) {
    if (!freshMemo.has(root)) freshMemo.set(root, isFresh(root));
    return freshMemo.get(root);
}

module.exports = { ROOT, DIST, KEY_FILE, BUILD_TSCONFIG, keyInputs, sourceKey, builtKey, isFresh, distIsFresh };
