// Loads one of warmrun's modules for the dynamic providers. Pulumi serializes a provider's
// functions into the state, so they hold no path: they ask Node for `warmrun/load` from the
// provider's working directory (the project: an installed package in node_modules, or this
// checkout through the package's self-reference), and this file finds the module beside it.
//
// In a checkout the TypeScript source is there and runs through ts-node, so the provider always
// runs the code the program was built from; an installed package has only the compiled JavaScript.
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");

/** `rel` is the module's path in the package without extension, e.g. "components/core/providerImpl". */
function load(rel) {
    const source = path.join(ROOT, `${rel}.ts`);
    if (fs.existsSync(source)) {
        // tsconfig.pulumi.json: transpile only (the program is type-checked by the build).
        if (!require.extensions[".ts"]) require("ts-node").register({ transpileOnly: true, project: path.join(ROOT, "tsconfig.pulumi.json") });
        return require(source);
    }
    const compiled = path.join(ROOT, "dist", `${rel}.js`);
    if (!fs.existsSync(compiled)) throw new Error(`warmrun: ${compiled} is missing: reinstall the package (npm install warmrun)`);
    return require(compiled);
}

module.exports = { load, ROOT };
