import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The code (for `new Worker(code, { eval: true })`) that starts the worker module `name` (without
 * extension) beside the module at `here` (its `import.meta.url`). Compiled (`.js`) it loads directly; from
 * TypeScript sources (tsx, vitest) the thread first registers tsx's loader when it was not inherited: Node 20
 * does not pass loaders on to worker threads and refuses the .ts file (ERR_UNKNOWN_FILE_EXTENSION), while
 * Node 22.18+/24 strip its types themselves and then miss the .ts file behind an import written `./x.js`
 * (ERR_MODULE_NOT_FOUND) — also in a dynamic import long after the thread started, so there tsx is
 * registered first. The retry uses another URL (the module map remembers the failed load). Null when
 * neither works here (not a file URL, or TypeScript sources without tsx installed).
 */
export function workerEntryCode(here: string, name: string): string | null {
  if (!here.startsWith('file:')) return null;
  if (!here.endsWith('.ts')) return `import(${JSON.stringify(new URL(`./${name}.js`, here).href)});`;
  let api: string;
  try {
    const loader = createRequire(here).resolve('tsx/esm');
    api = pathToFileURL(loader.replace(/index\.mjs$/, 'api/index.mjs')).href;
  } catch {
    return null;
  }
  const entry = JSON.stringify(new URL(`./${name}.ts`, here).href);
  const retry = JSON.stringify(new URL(`./${name}.ts?tsx`, here).href);
  // Where Node strips types itself, a module that loaded could still fail on a later dynamic import of a
  // sibling written `./x.js`: register tsx before loading anything.
  return `process.features.typescript
    ? import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${entry}); })
    : import(${entry}).catch((e) => {
    if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' && e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${retry}); });
  });`;
}
