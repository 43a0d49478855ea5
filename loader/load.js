// Loads one of warmrun's modules for the dynamic providers, the program and the npm scripts.
// Pulumi serializes a provider's functions into the state, so they hold no path: they ask Node for
// `warmrun/load` from the provider's working directory (the project: an installed package in
// node_modules, or this checkout through the package's self-reference), and this file finds the
// module beside it.
//
// An installed package has only the compiled JavaScript (dist/). In a checkout the TypeScript
// sources are there too: dist/ runs when it was built from the sources as they are now (its key,
// loader/build.js; `npm run setup` and `npm test` build it), else the sources run through ts-node,
// so the code that runs is always the code of the checkout, never a stale build.
"use strict";
const fs = require("fs");
const path = require("path");
const { ROOT, DIST, distIsFresh } = require("./build");

function registerTsNode() {
    // tsconfig.pulumi.json: transpile only (the sources are type-checked by the build and the tests).
    if (!require.extensions[".ts"]) require("ts-node").register({ transpileOnly: true, project: path.join(ROOT, "tsconfig.pulumi.json") });
}

/** The file to require for `rel`, the module's path in the package without extension, e.g. "components/core/providerImpl". */
function resolve(rel) {
    const source = path.join(ROOT, `${rel}.ts`);
    const compiled = path.join(ROOT, DIST, `${rel}.js`);
    if (fs.existsSync(source)) {
        if (process.env.WARMRUN_LOAD !== "ts" && distIsFresh(ROOT) && fs.existsSync(compiled)) return compiled;
        registerTsNode();
        return source;
    }
    if (!fs.existsSync(compiled)) throw new Error(`warmrun: ${compiled} is missing: reinstall the package (npm install warmrun)`);
    return compiled;
}

function load(rel) {
    return require(resolve(rel));
}

/** Which code runs: "dist" (compiled, fresh) or "ts" (the sources through ts-node). */
function mode() {
    return resolve("components/core/providerImpl").endsWith(".js") ? "dist" : "ts";
}

module.exports = { load, resolve, mode, ROOT };
