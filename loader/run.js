#!/usr/bin/env node
// Runs one of the package's scripts as the main module, e.g. `node loader/run.js scripts/gc --yes`:
// its compiled JavaScript when dist/ is fresh, else its source through ts-node (loader/load.js).
"use strict";
const Module = require("module");
const { resolve } = require("./load");

const rel = process.argv[2];
if (!rel) {
    process.stderr.write("usage: node loader/run.js <script without extension, e.g. scripts/gc> [arguments]\n");
    process.exit(2);
}
// The script sees itself as argv[1] and its own arguments after it, as when node runs it directly.
process.argv.splice(1, 2, resolve(rel.replace(/\.(ts|js)$/, "")));
Module.runMain();
