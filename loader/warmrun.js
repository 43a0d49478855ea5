#!/usr/bin/env node
// The `warmrun` command: cli/warmrun.ts, compiled in an installed package, through ts-node in a
// checkout (loader/load.js), so `npx warmrun` in warmrun's own repository needs no build.
"use strict";
require("./load")
    .load("cli/warmrun")
    .main(process.argv.slice(2))
    .then((code) => (process.exitCode = code));
