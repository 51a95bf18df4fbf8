import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Zod from 'zod';

/**
 * zod, loaded synchronously on first use instead of at import (issue 14, item 5: zod is ~10 modules and a
 * quarter of `import('reembed')`, and the schemas of spaces, probe sets and OpenAI options are only needed
 * when one is validated). Where Node can `require` an ES module (20.19+, 22.12+) this loads zod's ES build,
 * the same instance `import 'zod'` gives the server; older Node loads zod's CommonJS build (a second copy of
 * zod in processes that also import it, with the same behaviour).
 */
let loaded: typeof Zod.z | undefined;

export function zod(): typeof Zod.z {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const esm =
    (process.features as { require_module?: boolean }).require_module === true &&
    typeof import.meta.resolve === 'function';
  const mod = require(esm ? fileURLToPath(import.meta.resolve('zod')) : 'zod') as typeof Zod;
  loaded = mod.z;
  return loaded;
}

/** A value built from zod once, on its first use. */
export function lazyZod<T>(build: (z: typeof Zod.z) => T): () => T {
  let value: T | undefined;
  return () => {
    if (value === undefined) value = build(zod());
    return value;
  };
}
