#!/usr/bin/env node
// Builds dist/ (the compiled JavaScript the program, the providers and the npm scripts run) from
// tsconfig.build.json, only when the sources' key (loader/build.js) differs from the key dist/ was
// built from; `--force` builds anyway. The build goes to a directory of its own and replaces dist/
// only once it is complete and the sources did not change while it ran.
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");
const { ROOT, DIST, KEY_FILE, BUILD_TSCONFIG, keyInputs, sourceKey, builtKey } = require("../loader/build");

function log(line) {
    process.stderr.write(`build-dist: ${line}\n`);
}

function main(argv) {
    const force = argv.includes("--force");
    const key = sourceKey(ROOT);
    if (!key) {
        log(`a file of the build is missing (${BUILD_TSCONFIG}, package-lock.json or a listed source)`);
        return 1;
    }
    const dist = path.join(ROOT, DIST);
    if (!force && builtKey(ROOT) === key) {
        log(`dist/ is up to date (${key.slice(0, 12)})`);
        return 0;
    }
    const tmp = path.join(ROOT, `${DIST}.build-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    const started = Date.now();
    const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
    const r = spawnSync(process.execPath, [tsc, "-p", BUILD_TSCONFIG, "--outDir", tmp, "--listEmittedFiles"], { cwd: ROOT, encoding: "utf8" });
    const fail = (message) => {
        fs.rmSync(tmp, { recursive: true, force: true });
        log(message);
        return 1;
    };
    if (r.status !== 0) return fail(`tsc -p ${BUILD_TSCONFIG} failed; dist/ is unchanged:\n${r.stdout}${r.stderr}`);
    // Every emitted module's source must be one the key covers, or an edit to it would not rebuild.
    const covered = new Set(keyInputs(ROOT));
    for (const line of r.stdout.split("\n")) {
        const m = /^TSFILE: (.*)\.js$/.exec(line.trim());
        if (!m) continue;
        const source = `${path.relative(tmp, m[1])}.ts`;
        if (!covered.has(source)) return fail(`${source} is compiled but not in the key of ${BUILD_TSCONFIG}: add it to its "files" or its directory to "include"`);
    }
    if (sourceKey(ROOT) !== key) return fail("the sources changed while tsc ran; dist/ is unchanged: run it again");
    fs.writeFileSync(path.join(tmp, KEY_FILE), `${key}\n`);
    fs.rmSync(dist, { recursive: true, force: true });
    try {
        fs.renameSync(tmp, dist);
    } catch (e) {
        // Another build of the same sources finished first: keep it when its key is this one.
        if (builtKey(ROOT) !== key) throw e;
        fs.rmSync(tmp, { recursive: true, force: true });
        log("another build of these sources replaced dist/ first; keeping it");
        return 0;
    }
    log(`built dist/ (${key.slice(0, 12)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
}

process.exitCode = main(process.argv.slice(2));
