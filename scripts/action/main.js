#!/usr/bin/env node
// The GitHub Action's main step (action.yml): runs scripts/action/run.ts (through ts-node in a checkout, compiled in a package).
"use strict";
require("../../loader/load")
    .load("scripts/action/run")
    .main()
    .then((code) => (process.exitCode = code));
