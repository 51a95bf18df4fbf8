/**
 * Bundles the CLI's start-up path into one CommonJS file, dist/cli/launch.cjs, after `tsc` (`npm run build`).
 *
 * Why (issue 14, item 5): `reembed --help` spent most of its time over a bare `node` loading ~10 small ES
 * modules through Node's ES module loader (resolve, read, compile, link each) and commander's ES wrapper
 * (which parses its CommonJS source again to find the names it exports). One CommonJS file read and compiled
 * once does the same work in a fraction of that; bin/reembed.js requires it.
 *
 * What goes in: main.js and what it imports statically (the registry, the context, output, process I/O,
 * progress and the error catalog): tsc's output, unchanged, in one file. What stays out:
 * - every `import()` — each command's module, the app — loads from dist/ as before, with its own imports,
 *   so a command still loads only what it uses, and the boundaries the package-shape test checks hold;
 * - every package (`packages: 'external'`): commander is `require`d at run time, the one instance the
 *   command modules' `import ... from 'commander'` then get from Node's module cache (a bundled copy
 *   would load commander twice for every command that runs).
 * A few of reembed's own modules therefore exist twice when a command runs (the bundle's copy and
 * dist/'s): they hold no state, and `ReembedError` is recognised across copies (core/errors.ts).
 * test/cli/launch.test.ts checks what the bundle holds and that every help text it prints is the one the
 * ES modules print.
 */
import { build } from 'esbuild';

const result = await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/launch.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // `createRequire(import.meta.url)` (progress.js) resolves from the bundle's own URL, beside main.js.
  define: { 'import.meta.url': 'IMPORT_META_URL' },
  banner: { js: "const IMPORT_META_URL = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    {
      name: 'keep-dynamic-imports',
      setup(b) {
        // `import('./commands/x.js')` stays an import of the file beside the bundle (dist/cli/).
        b.onResolve({ filter: /.*/ }, (args) =>
          args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
        );
      },
    },
  ],
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
});

const inputs = Object.keys(result.metafile.inputs).sort();
console.error(`dist/cli/launch.cjs: ${inputs.length} modules (${inputs.join(', ')})`);
