import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embedSources } from '../../src/app/embed-sources.js';
import type { OpenOptions } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { GoldenSet } from '../../src/core/golden.js';
import { defineSpace, type Space } from '../../src/core/space.js';
import { loadJsonlGoldenSet } from '../../src/eval/load-golden.js';
import { corpus } from '../migration/helpers.js';

export { corpus };

/** Hashing spaces: `near` differs from `old` only in term weighting (a bridge between them should work). */
export function spaces(): { old: Space; near: Space; far: Space } {
  const base = { provider: 'hashing', model: 'fnv1a', dimension: 64 } as const;
  return {
    old: defineSpace('old-v1', { ...base, params: { seed: 1 } }),
    near: defineSpace('near-v2', { ...base, params: { seed: 1, sublinear: true } }),
    far: defineSpace('far-v2', { ...base, params: { seed: 7 } }),
  };
}

/** Embeds the first `count` documents of the collection natively into `namespace` (a backfill's first batches). */
export async function embedNatively(
  app: Reembed,
  collection: string,
  namespace: string,
  ids: readonly string[],
): Promise<void> {
  const ns = await app.backend.catalog.getNamespace(namespace);
  const docs = [...(await app.backend.sources.getMany(collection, ids)).values()];
  const writes = await embedSources(await app.embedders.get(ns.space), docs);
  await app.backend.store.write(namespace, ns.space.fingerprint, writes);
}

/** Known-item queries: a few words and the unique token of every `every`-th document. */
export async function knownItemGolden(
  dir: string,
  docs: readonly { id: string; text: string }[],
  every = 4,
): Promise<GoldenSet> {
  const lines = docs
    .filter((_, i) => i % every === 0)
    .map((d) => {
      const words = d.text.split(' ');
      return JSON.stringify({
        id: `q-${d.id}`,
        query: [...words.slice(0, 3), words[words.length - 1]].join(' '),
        relevant: [d.id],
      });
    });
  const file = join(dir, 'golden.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return loadJsonlGoldenSet(file);
}

const PG_URL = process.env.REEMBED_PG_URL;

/** Both SQL backends: SQLite always, PostgreSQL (a fresh schema per test) when REEMBED_PG_URL is set. */
export const BACKENDS: { name: string; options: () => OpenOptions; skip: string | null }[] = [
  { name: 'sqlite', options: () => ({}), skip: null },
  {
    name: 'pg',
    options: () => ({
      pg: PG_URL as string,
      pgSchema: `t_${process.pid}_${randomBytes(5).toString('hex')}`,
      pgDropSchemaOnClose: true,
    }),
    skip: PG_URL ? null : 'Postgres tests skipped: set REEMBED_PG_URL (run scripts/provision-postgres.sh)',
  },
];
