import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { crashTrial } from '../migration/crash-trial.js';
import { annNamespace, annOther, annSpace, vectorOf } from './helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'ann-crash-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'reembed-ann-crash-'));
const db = join(dir, 'crash.db');
const ns = annNamespace.name;

beforeAll(async () => {
  const backend = await openSqliteBackend({ path: db, ann: { threshold: 0 } });
  await backend.store.createNamespace(annNamespace);
  for (let i = 0; i < 1_500; i += 500) {
    await backend.store.write(
      ns,
      annSpace.fingerprint,
      Array.from({ length: 500 }, (_, j) => ({
        sourceId: `d${i + j}`,
        sourceVersion: 1,
        contentHash: 'h1',
        tenant: null,
        metadata: {},
        chunks: [{ chunkId: `d${i + j}#0`, index: 0, text: 'x', vector: vectorOf(i + j) }],
      })),
    );
  }
  // A record of another space written behind the store's back, right where queries land (invariant 2).
  backend.db
    .prepare(
      `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash, source_version,
         embedded_at, tenant, metadata, text, vector) VALUES (?, 'foreign#0', 'foreign', 0, ?, 'h', 1, 'now', NULL, '{}', 'x', ?)`,
    )
    .run(ns, annOther.fingerprint, Buffer.from(vectorOf(0).buffer));
  await backend.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the child and SIGKILLs it `killAfterMs` after it is ready (or lets a crash point kill it). */
async function trial(seed: number, killAfterMs: number, crashAt?: string): Promise<string> {
  const args = [db, String(seed), ...(crashAt ? [crashAt] : [])];
  const { killed, output } = await crashTrial(args, killAfterMs, CHILD);
  if (!killed) throw new Error(`child exited without being killed: ${output}`);
  return output;
}

/**
 * What a search may return after a crash: only live records (no tombstoned head, at the head's version)
 * of the namespace's own fingerprint — checked for queries aimed at deleted, live and foreign vectors.
 */
async function checkSearches(): Promise<void> {
  const backend = await openSqliteBackend({ path: db, ann: { threshold: 0 } });
  try {
    const heads = new Map(
      (await backend.store.scanHeads(ns, { limit: 10_000 })).map((h) => [h.sourceId, h] as const),
    );
    const deleted = [...heads.values()].filter((h) => h.deleted).map((h) => Number(h.sourceId.slice(1)));
    const queries = [...deleted.slice(0, 40), 0, 1, 2, 3, 700, 1_499].map(vectorOf);
    for (const vector of queries) {
      const hits = await backend.store.search(ns, { vector, fingerprint: annSpace.fingerprint, k: 20 });
      expect(hits.length).toBe(20);
      for (const hit of hits) {
        expect(hit.provenance.fingerprint).toBe(annSpace.fingerprint);
        const head = heads.get(hit.sourceId);
        expect(head?.deleted, `${hit.sourceId} is deleted`).toBe(false);
        expect(hit.provenance.sourceVersion).toBe(head?.sourceVersion);
      }
    }
    const info = await backend.store.describeIndex(ns);
    const live = [...heads.values()].filter((h) => !h.deleted).length;
    expect(info.index?.size).toBe(live);
  } finally {
    await backend.close();
  }
}

describe('HNSW index crash safety (invariants 2 and 5)', () => {
  for (const crashAt of ['before-rename', 'after-rename', 'after-commit']) {
    it(`never serves a deleted or foreign record after a SIGKILL ${crashAt.replace('-', ' ')} of an index save`, async () => {
      await trial(11, 60_000, crashAt);
      await checkSearches();
    }, 90_000);
  }

  it('never serves a deleted or foreign record after SIGKILLs at random moments of writes and saves', async () => {
    let seed = 5;
    for (let i = 0; i < 6; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      await trial(seed, 20 + (seed % 400));
      await checkSearches();
    }
  }, 180_000);
});
