#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ caches compiled code between runs (a no-op on Node 20, which lacks it).
module.enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
