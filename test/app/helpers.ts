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

export const DOCS = [
  { id: 'a', text: 'Embedding spaces from two models are not comparable even at equal dimension.' },
  { id: 'b', text: 'Blue-green deployment builds the new index offline and switches atomically.' },
  { id: 'c', text: 'Reciprocal rank fusion combines rankings without comparing raw scores.', tenant: 't1' },
  { id: 'd', text: 'A tombstone keeps a deleted document from coming back during a backfill.', tenant: 't2' },
];
