import { createRequire } from 'node:module';

/**
 * usearch, loaded by the first search or index that needs it: opening the store (and every CLI command
 * that never searches) does not load the native module.
 */
let loaded: typeof import('usearch') | null = null;
export const usearch = (): typeof import('usearch') => {
  loaded ??= createRequire(import.meta.url)('usearch') as typeof import('usearch');
  return loaded;
};
