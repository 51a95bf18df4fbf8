#!/usr/bin/env node
// CommonJS (bin/package.json): a CommonJS entry starts without Node's ES module loader, which
// `reembed --help` does not need. dist/cli/launch.cjs is the CLI's start-up path bundled into one file
// (scripts/bundle-cli.mjs, run by `npm run build`); each command's module is imported from dist/ when it runs.
'use strict';
const nodeModule = require('node:module');

// Node 22.1+ caches compiled code between runs (a no-op on Node 20, which lacks it).
nodeModule.enableCompileCache?.();
const { main } = require('../dist/cli/launch.cjs');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
