#!/usr/bin/env node
// `npx warmrun-downloads` in a checkout: runs the TypeScript entry through ts-node (installed by
// `npm ci`), so nothing needs building or downloading first.
const path = require("path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "..", "tsconfig.json") });
require("../warmrun-downloads.ts")
    .main(process.argv.slice(2))
    .then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`warmrun-downloads: ${(e && e.stack) || e}\n`);
            process.exitCode = 1;
        },
    );
