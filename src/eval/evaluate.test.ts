import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenSetOf } from '../testing/fixtures.js';
import { sharedData } from '../testing/shared.js';
import { compareRetrievers } from './compare.js';
import { evaluateRetriever, type Retrieve, summarizeLatency } from './evaluate.js';
import { loadGoldenSet } from './load-golden.js';
import { mapPool } from './pool.js';

const mini = () =>
  goldenSetOf(
    'mini',
    { q1: 'alpha', q2: 'beta', q3: 'gamma', q4: 'unjudged' },
    { q1: { a: 1 }, q2: { b: 2, c: 1 }, q3: { g: 1 } },
  );

const answers: Record<string, string[]> = { alpha: ['a', 'x'], beta: ['c', 'b'], gamma: [] };
const fromTable: Retrieve = async (text, k) => (answers[text] ?? []).slice(0, k);

describe('evaluateRetriever', () => {
  it('scores every golden query, asks for the largest k and reports per query', async () => {
    const asked: number[] = [];
    const r = await evaluateRetriever(
      mini(),
      async (text, k, ctx) => {
        asked.push(k);
        expect(ctx.queryId).toMatch(/^q[123]$/);
        return fromTable(text, k, ctx);
      },
      { ks: [10, 1] },
    );
    expect(asked).toEqual([10, 10, 10]);
    expect(r.kind).toBe('evaluation');
    expect(r.golden).toMatchObject({ name: 'mini', queries: 3 });
    expect(r.ks).toEqual([1, 10]);
    expect(r.perQuery.map((q) => q.queryId)).toEqual(['q1', 'q2', 'q3']);
    expect(r.metrics['mrr@10']).toBeCloseTo((1 + 1 + 0) / 3, 12);
    expect(r.metrics['recall@1']).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(r.perQuery[1]?.metrics['ndcg@10']).toBeCloseTo(
      (1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3)),
      12,
    );
    expect(r.perQuery[2]?.returned).toBe(0);
    expect(r.skipped.noJudgments).toBe(1);
    expect(r.errors.count).toBe(0);
    expect(r.latency.p99).toBeGreaterThanOrEqual(r.latency.p50);
  });

  it('uses default cut-offs 1, 5, 10, 100', async () => {
    const r = await evaluateRetriever(mini(), fromTable);
    expect(r.ks).toEqual([1, 5, 10, 100]);
    expect(Object.keys(r.metrics)).toContain('ndcg@100');
  });

  it('a failing query scores 0 and is counted; too many failures stop the run', async () => {
    const flaky: Retrieve = async (text, k, ctx) => {
      if (text === 'alpha') throw new Error('boom');
      return fromTable(text, k, ctx);
    };
    const r = await evaluateRetriever(mini(), flaky, { maxErrors: 1 });
    expect(r.errors).toEqual({ count: 1, samples: [{ queryId: 'q1', message: 'boom' }] });
    expect(r.perQuery[0]).toMatchObject({ queryId: 'q1', error: 'boom' });
    expect(r.perQuery[0]?.metrics['mrr@10']).toBe(0);
    await expect(evaluateRetriever(mini(), flaky, { maxErrors: 0 })).rejects.toThrow(
      /stopped after 1 failed queries.*boom/,
    );
  });

  it('bounds concurrency, reports progress and honours an abort signal', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow: Retrieve = async (text, k, ctx) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return fromTable(text, k, ctx);
    };
    const progress: number[] = [];
    await evaluateRetriever(mini(), slow, { concurrency: 2, onProgress: (p) => progress.push(p.done) });
    expect(peak).toBe(2);
    expect(progress).toEqual([1, 2, 3]);
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateRetriever(mini(), slow, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});

describe('compareRetrievers', () => {
  it('measures overlap, RBO and recall of a candidate against a reference', async () => {
    const queries = mini().queries;
    const exact: Retrieve = async () => ['a', 'b', 'c'];
    const same = await compareRetrievers(queries, exact, exact, { k: 3 });
    expect(same.metrics).toEqual({ 'overlap@3': 1, 'rbo@3': expect.closeTo(1, 12), 'recall@3': 1 });
    const partial = await compareRetrievers(queries, exact, async () => ['a', 'x', 'y'], { k: 3 });
    expect(partial.n).toBe(3);
    expect(partial.metrics['overlap@3']).toBeCloseTo(1 / 3, 12);
    expect(partial.metrics['recall@3']).toBeCloseTo(1 / 3, 12);
    expect(partial.metrics['rbo@3']).toBeLessThan(1);
    expect(partial.latency.candidate.max).toBeGreaterThanOrEqual(0);
  });

  it('rethrows a retriever error', async () => {
    const broken: Retrieve = async () => {
      throw new Error('down');
    };
    await expect(compareRetrievers(mini().queries, broken, broken)).rejects.toThrow('down');
  });
});

describe('helpers', () => {
  it('mapPool keeps input order and validates concurrency', async () => {
    const out = await mapPool(
      [30, 10, 20],
      async (ms, i) => {
        await new Promise((r) => setTimeout(r, ms));
        return i;
      },
      { concurrency: 3 },
    );
    expect(out).toEqual([0, 1, 2]);
    await expect(mapPool([1], async (x) => x, { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });

  it('summarizeLatency', () => {
    expect(summarizeLatency([])).toEqual({ p50: 0, p99: 0, mean: 0, max: 0 });
    expect(summarizeLatency([3, 1, 2])).toEqual({ p50: 2, p99: expect.closeTo(2.98, 12), mean: 2, max: 3 });
  });
});

// An independent check of the whole chain (loader → runner → metrics): a plain BM25 (k1 0.9, b 0.4,
// no stemming) reproduces the numbers SOURCE.md reports for each dataset within tokenisation noise.
const DATA = sharedData('datasets', 'scifact/corpus.jsonl');
const DATASETS = DATA.path;
const haveDatasets = DATA.present && existsSync(join(DATASETS, 'cranfield', 'corpus.jsonl'));

function bm25(dir: string): Retrieve {
  const tokens = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const docs = readFileSync(join(dir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { _id: string; title: string; text: string });
  const postings = new Map<string, [number, number][]>();
  const lengths = docs.map((d, i) => {
    const toks = tokens(`${d.title} ${d.text}`);
    const tf = new Map<string, number>();
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, c] of tf) {
      const list = postings.get(t) ?? [];
      list.push([i, c]);
      postings.set(t, list);
    }
    return toks.length;
  });
  const avg = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  return async (text, k) => {
    const scores = new Float64Array(docs.length);
    for (const t of new Set(tokens(text))) {
      const list = postings.get(t) ?? [];
      const idf = Math.log(1 + (docs.length - list.length + 0.5) / (list.length + 0.5));
      for (const [i, c] of list)
        scores[i] = (scores[i] ?? 0) + (idf * c * 1.9) / (c + 0.9 * (0.6 + (0.4 * (lengths[i] ?? 0)) / avg));
    }
    return [...scores.keys()]
      .filter((i) => (scores[i] ?? 0) > 0)
      .sort((x, y) => (scores[y] ?? 0) - (scores[x] ?? 0))
      .slice(0, k)
      .map((i) => docs[i]?._id as string);
  };
}

describe.skipIf(!haveDatasets)(DATA.label('BM25 sanity on the real datasets'), () => {
  it.each([
    ['scifact', 0.661, 0.63, 0.886],
    ['cranfield', 0.317, 0.486, 0.687],
  ])('%s: nDCG@10 %d, MRR@10 %d, R@100 %d (±0.015)', async (name, ndcg, mrr, recall) => {
    const dir = join(DATASETS, name);
    const r = await evaluateRetriever(await loadGoldenSet(dir), bm25(dir), { ks: [10, 100] });
    expect(Math.abs((r.metrics['ndcg@10'] ?? 0) - ndcg)).toBeLessThan(0.015);
    expect(Math.abs((r.metrics['mrr@10'] ?? 0) - mrr)).toBeLessThan(0.015);
    expect(Math.abs((r.metrics['recall@100'] ?? 0) - recall)).toBeLessThan(0.015);
  });
});
