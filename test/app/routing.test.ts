import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reembed } from '../../src/app/reembed.js';
import { DOCS, type tempApp, twoSpaceApp, V2 } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v2 = V2;

beforeEach(async () => {
  ctx = await twoSpaceApp({ v2Namespace: true });
  app = ctx.app;
  // Only tenant t1's document is in v2 so far.
  await app.ingest('docs', [
    { id: 'c', text: 'Reciprocal rank fusion combines rankings, now in v2.', tenant: 't1' },
  ]);
});
afterEach(async () => ctx.cleanup());

describe('split routing (progressive rollout)', () => {
  it('a percentage-routed query reads both namespaces with coverage-aware fusion, never the partial one alone', async () => {
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      { kind: 'split', primary: 'docs@v1', next: 'docs@v2', percent: 100, tenants: [] },
      'test',
    );
    const { hits, trace } = await app.search('docs', { text: 'deleted document backfill tombstone', k: 4 });
    expect(trace.fusion).toBe('coverage-aware-score');
    expect(trace.reads.map((r) => r.namespace)).toEqual(['docs@v1', 'docs@v2']);
    // Documents not yet in v2 are still served (from v1).
    expect(hits.map((h) => h.sourceId)).toContain('d');
    expect(hits).toHaveLength(4);
  });

  it('a moved tenant reads the new namespace alone; other traffic stays on the old one', async () => {
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      { kind: 'split', primary: 'docs@v1', next: 'docs@v2', percent: 0, tenants: ['t1'] },
      'test',
    );
    const moved = await app.search('docs', { text: 'rank fusion', k: 2, filter: { tenant: 't1' } });
    expect(moved.trace.reads.map((r) => r.namespace)).toEqual(['docs@v2']);
    expect(moved.hits[0]?.provenance.fingerprint).toBe(v2.fingerprint);
    const stayed = await app.search('docs', { text: 'rank fusion', k: 2 });
    expect(stayed.trace.reads.map((r) => r.namespace)).toEqual(['docs@v1']);
    expect(stayed.trace.fusion).toBeNull();
  });
});

describe('fused routing (lazy)', () => {
  it('embeds unmigrated top hits on read; the app itself writes them in the background (re-embed on hit)', async () => {
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      { kind: 'fused', primary: 'docs@v1', next: 'docs@v2', fusion: { method: 'coverage-aware-score' } },
      'test',
    );
    const events: { sourceIds: readonly string[]; writes: readonly { sourceId: string }[] }[] = [];
    app.queries.observe({ onUnmigratedHits: (e) => events.push(e) });
    const before = await app.backend.store.stats('docs@v2');
    const { hits, trace } = await app.search('docs', { text: 'deleted document backfill tombstone', k: 3 });
    expect(trace.fusion).toBe('coverage-aware-score');
    expect(trace.mixedVersion).toBe(false);
    expect(hits).toHaveLength(3);
    expect(events).toHaveLength(1);
    expect(events[0]?.writes.map((w) => w.sourceId).sort()).toEqual(
      hits
        .map((h) => h.sourceId)
        .filter((id) => id !== 'c')
        .sort(),
    );
    // No MigrationService in this process: the app's own observer applies the writes (versioned).
    await app.observer?.flush();
    const after = await app.backend.store.stats('docs@v2');
    expect(after.sources).toBe(before.sources + (events[0]?.writes.length ?? 0));
  });

  it('re-ranks deeper than k when the policy says so: the top rerankDepth are embedded, k are served', async () => {
    const query = 'document backfill deleted models rankings';
    const events: { writes: readonly { sourceId: string }[] }[] = [];
    app.queries.observe({ onUnmigratedHits: (e) => events.push(e) });
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      {
        kind: 'fused',
        primary: 'docs@v1',
        next: 'docs@v2',
        fusion: { method: 'coverage-aware-score', rerankDepth: 4 },
      },
      'test',
    );
    const { hits } = await app.search('docs', { text: query, k: 1 });
    // Every unmigrated document among the old list's top 4 (all but c) was embedded on read (without a
    // rerankDepth, only the top k = 1) ...
    expect(
      events
        .at(-1)
        ?.writes.map((w) => w.sourceId)
        .sort(),
    ).toEqual(['a', 'b', 'd']);
    // ... so the one hit served is the new model's best over the whole collection.
    const embedder = await app.embedders.get(v2);
    const [q] = await embedder.embed([query], { inputType: 'query' });
    const texts = DOCS.map((d) =>
      d.id === 'c' ? 'Reciprocal rank fusion combines rankings, now in v2.' : d.text,
    );
    const docs = await embedder.embed(texts, { inputType: 'document' });
    const scores = docs.map((v) => v.reduce((s, x, i) => s + x * ((q as Float32Array)[i] as number), 0));
    expect(hits.map((h) => h.sourceId)).toEqual([DOCS[scores.indexOf(Math.max(...scores))]?.id]);
  });
});
