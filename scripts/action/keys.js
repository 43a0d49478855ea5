#!/usr/bin/env node
// The first step of the GitHub Action (action.yml), before warmrun's dependencies are installed:
// the cache keys and paths of the engine and npm. Plain Node.js, no dependencies.
//   engine-version  the @pulumi/pulumi version package-lock.json pins (the engine install-engine.sh sets up)
//   engine-dir      where install-engine.sh builds that engine ($WARMRUN_CACHE/engine/v<version>)
//   lock-hash       sha256 of package-lock.json
//   npm-cache       npm's cache directory
//   checkout        true in warmrun's own checkout (its dependencies to install), false in an installed package
//   deps-current    true when the checkout's node_modules was installed from this lock (nothing to install)
// Written to $GITHUB_OUTPUT (appended, NAME=value lines), or to standard output without it.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "..", "..");
const STAMP = path.join("node_modules", ".warmrun-lock.sha256");

/** The nearest package-lock.json at or above `dir`: the checkout's own, or the repository's that installed warmrun. */
function findLock(dir) {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "package-lock.json"))) return path.join(d, "package-lock.json");
        if (path.dirname(d) === d) return undefined;
    }
}

/** The lock hash node_modules was installed from (scripts/setup.sh writes it after npm ci). */
function readStamp(root) {
    try {
        return fs.readFileSync(path.join(root, STAMP), "utf8").trim();
    } catch {
        return undefined;
    }
}

function cacheKeys(root = ROOT, env = process.env) {
    const lockFile = findLock(root);
    if (!lockFile) throw new Error(`no package-lock.json at or above ${root}: warmrun's checkout has one, and a repository that installs warmrun commits its own`);
    const text = fs.readFileSync(lockFile, "utf8");
    // As install-engine.sh: a checkout's lock pins the engine, an installed package runs on the @pulumi/pulumi it resolves.
    const own = path.dirname(lockFile) === path.resolve(root);
    const pinned = own
        ? JSON.parse(text).packages?.["node_modules/@pulumi/pulumi"]?.version
        : require(require.resolve("@pulumi/pulumi/package.json", { paths: [root] })).version;
    if (!pinned) throw new Error(`${lockFile} pins no @pulumi/pulumi: run npm install in ${root}`);
    const cache = env.WARMRUN_CACHE || path.join(os.homedir(), ".cache", "warmrun");
    const npmCache = env.npm_config_cache || execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim();
    return {
        "engine-version": pinned,
        "engine-dir": path.join(cache, "engine", `v${pinned}`),
        "lock-hash": crypto.createHash("sha256").update(text).digest("hex"),
        "npm-cache": npmCache,
        // A checkout installs its dependencies; an installed package has them already.
        checkout: String(own),
        // The checkout's node_modules is from this lock already (the stamp setup.sh and the action write).
        "deps-current": String(own && readStamp(root) === crypto.createHash("sha256").update(text).digest("hex")),
    };
}

function main() {
    const lines = Object.entries(cacheKeys()).map(([k, v]) => `${k}=${v}\n`).join("");
    if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, lines);
    else process.stdout.write(lines);
}

module.exports = { cacheKeys, findLock };

if (require.main === module) {
    try {
        main();
    } catch (e) {
        process.stderr.write(`warmrun action: ${e.message}\n`);
        process.exitCode = 1;
    }
}
