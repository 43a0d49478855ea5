#!/usr/bin/env node
// The `warmrun` command: cli/warmrun.ts, compiled in an installed package and in a checkout whose
// dist/ is fresh, else through ts-node (loader/load.js), so a checkout never runs a stale build.
"use strict";
require("./load")
    .load("cli/warmrun")
    .main(process.argv.slice(2))
    .then((code) => (process.exitCode = code));
