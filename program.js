// The Pulumi program of this checkout (Pulumi.yaml's main): index.ts, as compiled JavaScript when
// dist/ was built from the sources as they are, else through ts-node (loader/load.js). It sits at the
// root because the engine starts the dynamic providers in the directory of the program's main file.
"use strict";
module.exports = require("./loader/load").load("index");
