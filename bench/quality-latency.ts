/**
 * Latency added by dual-read (issue 4): one read vs two reads + fusion.
 * 1. Through the real library: a SQLite file opened with `openReembed`, a collection in v1 (hashing-256)
 *    with half of its documents also in v2 (LSA-256), queried by text through a `single` alias and through
 *    a `fused` alias (QueryEngine: query embedded in both spaces, two exact reads, heads lookup, fusion).
 * 2. In memory: the cost of `fuseResults` alone, and of embed-on-read (embedding the unmigrated documents
 *    of the old top 10 with the new space and scoring them), which the fused numbers above do not include.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReembed } from '../src/app/open.js';
import { fuseResults } from '../src/core/fusion.js';
import { documentChunks } from '../src/core/pipeline.js';
import type { SearchHit } from '../src/core/records.js';
import type { FusionPolicy } from '../src/core/routing.js';
import { createLocalEmbedderFactory } from '../src/embedders/factory.js';
import { percentile } from './lib.js';
import type { QualityFixture } from './quality-data.js';
import { K } from './quality-methods.js';

export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
}

export interface LatencyReport {
  readonly dataset: string;
  readonly docs: number;
  readonly queries: number;
  readonly coverage: number;
  readonly policy: string;
  readonly single: LatencySummary;
  readonly fused: LatencySummary;
  /** Per-query difference fused − single (same query, same pass). */
  readonly added: LatencySummary;
  readonly fuseOnly: LatencySummary;
  readonly embedOnRead: LatencySummary & { readonly docsPerQuery: number };
}

const summary = (ms: number[]): LatencySummary => ({ p50: percentile(ms, 50), p99: percentile(ms, 99) });

/**
 * Measures on `fixture` with the documents of `migrated` (mask) also written to v2. `passes` repeats the
 * query set (the first pass warms caches and is discarded).
 */
export async function measureLatency(
  fixture: QualityFixture,
  migrated: Uint8Array,
  policy: FusionPolicy,
  passes = 3,
): Promise<LatencyReport> {
  const { collection, v1, v2 } = fixture;
  const dir = mkdtempSync(join(tmpdir(), 'reembed-quality-'));
  const app = await openReembed({ db: join(dir, 'quality.db'), actor: 'bench' });
  try {
    await app.addSpace(v1.space);
    await app.addSpace(v2.space);
    const docs = collection.docIds.map((id, i) => ({ id, text: collection.docTexts[i] as string }));
    const { namespace: oldNs } = await app.createCollection('docs', v1.space.name);
    const batch = async (list: typeof docs): Promise<void> => {
      for (let i = 0; i < list.length; i += 1000) await app.ingest('docs', list.slice(i, i + 1000));
    };
    await batch(docs.filter((_, i) => migrated[i] !== 1));
    // Documents ingested once the new namespace exists are dual-written: they are the migrated ones.
    const newNs = await app.createNamespace('docs', v2.space, 'building');
    await batch(docs.filter((_, i) => migrated[i] === 1));
    await app.backend.catalog.setAlias(
      'docs-fused',
      'docs',
      { kind: 'fused', primary: oldNs.name, next: newNs.name, fusion: policy },
      'bench',
    );
    const single: number[] = [];
    const fused: number[] = [];
    const added: number[] = [];
    for (let pass = 0; pass < passes; pass++) {
      for (const q of collection.queries) {
        const t0 = performance.now();
        await app.search('docs', { text: q.text, k: K });
        const t1 = performance.now();
        await app.search('docs-fused', { text: q.text, k: K });
        const t2 = performance.now();
        if (pass === 0) continue;
        single.push(t1 - t0);
        fused.push(t2 - t1);
        added.push(t2 - t1 - (t1 - t0));
      }
    }
    return {
      dataset: collection.name,
      docs: collection.docIds.length,
      queries: collection.queries.length,
      coverage: migrated.reduce((a, b) => a + b, 0) / migrated.length,
      policy: policy.method,
      single: summary(single),
      fused: summary(fused),
      added: summary(added),
      ...(await inMemoryCosts(fixture, migrated, policy)),
    };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `fuseResults` on 100 + 100 hits, and embed-on-read of the old top 10's unmigrated documents. */
async function inMemoryCosts(
  fixture: QualityFixture,
  migrated: Uint8Array,
  policy: FusionPolicy,
): Promise<Pick<LatencyReport, 'fuseOnly' | 'embedOnRead'>> {
  const { collection, v1, v2 } = fixture;
  const embedder = await createLocalEmbedderFactory().create(v2.space);
  const dim = v2.dimension;
  const n = collection.docIds.length;
  const fuseMs: number[] = [];
  const embedMs: number[] = [];
  let embedded = 0;
  const index = new Map(collection.docIds.map((id, i) => [id, i]));
  const isMigrated = (id: string): boolean => migrated[index.get(id) as number] === 1;
  for (let qi = 0; qi < collection.queries.length; qi++) {
    const scores = (vecs: Float32Array, docs: Float32Array, keep: (d: number) => boolean): SearchHit[] => {
      const out: { d: number; s: number }[] = [];
      for (let d = 0; d < n; d++) {
        if (!keep(d)) continue;
        let s = 0;
        for (let c = 0; c < dim; c++) s += (vecs[qi * dim + c] as number) * (docs[d * dim + c] as number);
        out.push({ d, s });
      }
      return out
        .sort((a, b) => b.s - a.s || a.d - b.d)
        .slice(0, 100)
        .map(({ d, s }) => hitFor(collection.docIds[d] as string, s));
    };
    const primary = scores(v1.queries, v1.docs, () => true);
    const next = scores(v2.queries, v2.docs, (d) => migrated[d] === 1);
    const ids = new Set([...primary, ...next].map((h) => h.sourceId).filter(isMigrated));
    const t0 = performance.now();
    fuseResults({
      primary: { namespace: 'v1', hits: primary },
      next: { namespace: 'v2', hits: next },
      migrated: ids,
      policy,
      k: K,
    });
    fuseMs.push(performance.now() - t0);
    const toEmbed = primary.slice(0, K).filter((h) => !isMigrated(h.sourceId));
    embedded += toEmbed.length;
    const t1 = performance.now();
    const texts = toEmbed.map(
      (h) =>
        documentChunks(
          v2.space.spec,
          h.sourceId,
          collection.docTexts[index.get(h.sourceId) as number] as string,
        )[0]?.text ?? '',
    );
    const vectors = await embedder.embed(texts, { inputType: 'document' });
    let sink = 0;
    for (const v of vectors)
      for (let c = 0; c < dim; c++) sink += (v[c] as number) * (v2.queries[qi * dim + c] as number);
    embedMs.push(performance.now() - t1 + (sink === Number.POSITIVE_INFINITY ? 1 : 0));
  }
  return {
    fuseOnly: summary(fuseMs),
    embedOnRead: { ...summary(embedMs), docsPerQuery: embedded / collection.queries.length },
  };
}

function hitFor(sourceId: string, score: number): SearchHit {
  const chunkId = `${sourceId}#0`;
  return {
    sourceId,
    chunkId,
    score,
    text: '',
    metadata: {},
    tenant: null,
    provenance: { fingerprint: '', sourceId, chunkId, contentHash: '', sourceVersion: 1, embeddedAt: '' },
  };
}
