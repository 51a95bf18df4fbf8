import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProbeSet, evaluateProbe } from '../../src/app/probes.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { tempApp } from './helpers.js';

/** Evaluating a probe on a real SQLite namespace: duplicated documents, changed documents, wrong collection. */
const TOPICS = [
  'Vitamin D deficiency raises the risk of hip fractures in older adults.',
  'Statins lower cholesterol and reduce cardiovascular events in trials.',
  'Aspirin use is linked to fewer colorectal cancers over long follow-up.',
  'Sleep loss impairs memory consolidation in young healthy volunteers.',
  'Air pollution exposure increases asthma admissions in children.',
];
/** Distinct vocabulary per document, so that only true copies are near-duplicates. */
const word = (i: number, j: number): string => `term${(i * 31 + j * 17) % 400}x${j}`;
const WORDS = Array.from({ length: 16 }, (_, j) => j);

const docs = Array.from({ length: 100 }, (_, i) => ({
  id: `d${String(i).padStart(3, '0')}`,
  text: `${TOPICS[i % 5]} Site ${WORDS.slice(0, 6)
    .map((j) => word(i, j))
    .join(' ')} enrolled patients. Visits ${WORDS.slice(6, 11)
    .map((j) => word(i, j))
    .join(' ')} happened monthly. The team ${WORDS.slice(11)
    .map((j) => word(i, j))
    .join(' ')} adjudicated outcomes.`,
}));

describe('probe evaluation', () => {
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  beforeEach(async () => {
    ctx = await tempApp();
    await ctx.app.addSpace(hashingSpace('v1', { dimension: 256 }));
    await ctx.app.createCollection('docs', 'v1');
    await ctx.app.createCollection('other', 'v1', { alias: 'other' }).catch(() => undefined);
  });
  afterEach(() => ctx.cleanup());

  it('ignores duplicated documents instead of counting them as misses', async () => {
    await ctx.app.ingest('docs', docs);
    const probe = await buildProbeSet(ctx.app.backend, 'docs', { params: { size: 40, seed: 2 } });
    const clean = await evaluateProbe(ctx.app, 'docs@v1', probe);
    expect(clean.duplicates).toBe(0);
    // A copy of every document under another id: each probe document now has a twin that matches
    // its held-out query better than the held-out document itself does.
    await ctx.app.ingest(
      'docs',
      docs.map((d) => ({ id: `copy-${d.id}`, text: d.text })),
    );
    const doubled = await evaluateProbe(ctx.app, 'docs@v1', probe);
    expect(doubled.duplicates).toBeGreaterThan(probe.queries.length / 2);
    expect(doubled.metrics['mrr@10']).toBeCloseTo(clean.metrics['mrr@10'] as number, 6);
    expect(doubled.label).toBe('probe');
  });

  it('leaves out queries whose document changed or was deleted, and refuses another collection’s probe', async () => {
    await ctx.app.ingest('docs', docs);
    const probe = await buildProbeSet(ctx.app.backend, 'docs', { params: { size: 40, seed: 2 } });
    const [first, second] = probe.queries;
    await ctx.app.ingest('docs', [
      { id: first?.sourceId as string, text: 'Rewritten since the probe was built.' },
    ]);
    await ctx.app.delete('docs', [second?.sourceId as string]);
    const r = await evaluateProbe(ctx.app, 'docs@v1', probe);
    expect(r.stale).toBe(2);
    expect(r.perQuery).toHaveLength(38);
    await ctx.app.ingest('other', docs.slice(0, 60));
    await expect(evaluateProbe(ctx.app, 'other@v1', probe)).rejects.toThrow(
      /built from collection "docs", not "other"/,
    );
  });
});
