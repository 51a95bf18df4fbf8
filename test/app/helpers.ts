import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OpenOptions, openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { defineSpace, type Space } from '../../src/core/space.js';

/** A fresh SQLite file per test, removed afterwards. */
export async function tempApp(
  options: OpenOptions = {},
): Promise<{ app: Reembed; dir: string; db: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-test-'));
  const db = join(dir, 'test.db');
  const app = await openReembed({ db, actor: 'test', ...options });
  return {
    app,
    dir,
    db,
    cleanup: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Two hashing spaces of the same dimension but different seeds: a same-dimension model swap. */
export function hashing(name: string, seed: number, dimension = 64): Space {
  return defineSpace(name, { provider: 'hashing', model: 'fnv1a', dimension, params: { seed } });
}

/** Spaces `v1` and `v2` of `twoSpaceApp`: the same dimension, different geometry. */
export const V1 = hashing('v1', 1);
export const V2 = hashing('v2', 2);

/**
 * A fresh app with collection `docs` on space `v1` holding `DOCS` (namespace `docs@v1`), and space `v2`
 * registered; with `v2Namespace`, also an active `docs@v2` namespace beside it (empty until written).
 */
export async function twoSpaceApp(options: { v2Namespace?: boolean } = {}): ReturnType<typeof tempApp> {
  const ctx = await tempApp();
  await ctx.app.addSpace(V1);
  await ctx.app.addSpace(V2);
  await ctx.app.createCollection('docs', 'v1');
  await ctx.app.ingest('docs', DOCS);
  if (options.v2Namespace) await ctx.app.createNamespace('docs', V2, 'active', 'docs@v1');
  return ctx;
}

export const DOCS = [
  { id: 'a', text: 'Embedding spaces from two models are not comparable even at equal dimension.' },
  { id: 'b', text: 'Blue-green deployment builds the new index offline and switches atomically.' },
  { id: 'c', text: 'Reciprocal rank fusion combines rankings without comparing raw scores.', tenant: 't1' },
  { id: 'd', text: 'A tombstone keeps a deleted document from coming back during a backfill.', tenant: 't2' },
];
