/**
 * Scoring helpers of the bridge benchmark: exact query × document score matrices, top-k, nDCG, the
 * coverage-aware fusion reembed serves (src/core/fusion.ts), and the probe MRR a gate chooses by.
 */
import { fuseResults } from '../src/core/fusion.js';
import { evaluateRun, type Qrels } from '../src/core/metrics.js';
import type { SearchHit } from '../src/core/records.js';

/** Dot products of every row of `q` with every row of `d` (rows × dim each): a q-rows × d-rows matrix. */
export function scoreMatrix(q: Float32Array, d: Float32Array, dim: number): Float32Array {
  const nq = q.length / dim;
  const nd = d.length / dim;
  const out = new Float32Array(nq * nd);
  for (let i = 0; i < nq; i++) {
    const qo = i * dim;
    for (let j = 0; j < nd; j++) {
      const o = j * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let c = 0;
      for (; c + 3 < dim; c += 4) {
        s0 += (q[qo + c] as number) * (d[o + c] as number);
        s1 += (q[qo + c + 1] as number) * (d[o + c + 1] as number);
        s2 += (q[qo + c + 2] as number) * (d[o + c + 2] as number);
        s3 += (q[qo + c + 3] as number) * (d[o + c + 3] as number);
      }
      for (; c < dim; c++) s0 += (q[qo + c] as number) * (d[o + c] as number);
      out[i * nd + j] = s0 + s1 + s2 + s3;
    }
  }
  return out;
}

/** Indices of the k best entries of `row` (best first), among those `keep` accepts. */
export function topK(row: ArrayLike<number>, k: number, keep?: (i: number) => boolean): number[] {
  const idx: number[] = [];
  const sc: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (keep && !keep(i)) continue;
    const s = row[i] as number;
    if (idx.length === k && s <= (sc[k - 1] as number)) continue;
    let p = idx.length < k ? idx.length : k - 1;
    if (idx.length < k) {
      idx.push(i);
      sc.push(s);
    }
    while (p > 0 && (sc[p - 1] as number) < s) {
      idx[p] = idx[p - 1] as number;
      sc[p] = sc[p - 1] as number;
      p--;
    }
    idx[p] = i;
    sc[p] = s;
  }
  return idx;
}

/** Rows `pick` of a rows × dim matrix. */
export function rowsOf(m: Float32Array, dim: number, pick: ArrayLike<number>): Float32Array {
  const out = new Float32Array(pick.length * dim);
  for (let i = 0; i < pick.length; i++) {
    const r = pick[i] as number;
    out.set(m.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}

export interface Judged {
  readonly docIds: readonly string[];
  readonly queryIds: readonly string[];
  readonly qrels: Qrels;
}

/** Per-query nDCG@10 of rankings (document indices) in query order. */
export function ndcgPerQuery(runs: readonly number[][], judged: Judged): number[] {
  const run = new Map<string, string[]>();
  runs.forEach((r, i) => {
    run.set(
      judged.queryIds[i] as string,
      r.map((d) => judged.docIds[d] as string),
    );
  });
  const byId = new Map(evaluateRun(run, judged.qrels, [10]).perQuery.map((p) => [p.queryId, p]));
  return judged.queryIds.map((id) => byId.get(id)?.metrics['ndcg@10'] ?? 0);
}

/** The judged queries of a dataset, and its mean nDCG@10 over a run per query. */
export function judgedOf(collection: {
  docIds: readonly string[];
  queries: readonly { id: string }[];
  qrels: Judged['qrels'];
}): {
  judged: Judged;
  ndcg: (runs: number[][]) => number;
} {
  const judged: Judged = {
    docIds: collection.docIds,
    queryIds: collection.queries.map((q) => q.id),
    qrels: collection.qrels,
  };
  return { judged, ndcg: (runs) => mean(ndcgPerQuery(runs, judged)) };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Top 10 of every row of a queries × docs score matrix (optionally among kept documents). */
export function rank(scores: Float32Array, docs: number, keep?: (i: number) => boolean, k = 10): number[][] {
  const nq = scores.length / docs;
  return Array.from({ length: nq }, (_, i) => topK(scores.subarray(i * docs, (i + 1) * docs), k, keep));
}

const DEPTH = 100;

/** A search hit carrying only what the replays read: the source id and its score. */
export function hit(id: string, score: number): SearchHit {
  return {
    sourceId: id,
    chunkId: `${id}#0`,
    score,
    text: '',
    metadata: {},
    tenant: null,
    provenance: {
      fingerprint: '',
      sourceId: id,
      chunkId: `${id}#0`,
      contentHash: '',
      sourceVersion: 1,
      embeddedAt: '',
    },
  };
}

/**
 * reembed's read of a migration at coverage c: the complete namespace's list (`primary`: clean old, or a
 * bridge) and the new namespace's native list over the migrated documents, fused by coverage-aware-score.
 */
export function fused(
  primary: Float32Array,
  native: Float32Array,
  docIds: readonly string[],
  migrated: Uint8Array,
  coverage: number | undefined,
): number[][] {
  const n = docIds.length;
  const nq = primary.length / n;
  const index = new Map(docIds.map((id, i) => [id, i]));
  return Array.from({ length: nq }, (_, q) => {
    const p = topK(primary.subarray(q * n, (q + 1) * n), DEPTH).map((d) =>
      hit(docIds[d] as string, primary[q * n + d] as number),
    );
    const x = topK(native.subarray(q * n, (q + 1) * n), DEPTH, (i) => migrated[i] === 1).map((d) =>
      hit(docIds[d] as string, native[q * n + d] as number),
    );
    const ids = new Set<string>();
    for (const h of [...p, ...x]) if (migrated[index.get(h.sourceId) as number] === 1) ids.add(h.sourceId);
    return fuseResults({
      primary: { namespace: 'primary', hits: p },
      next: { namespace: 'next', hits: x },
      migrated: ids,
      policy: { method: 'coverage-aware-score' },
      k: 10,
      ...(coverage !== undefined ? { coverage } : {}),
    }).map((h) => index.get(h.sourceId) as number);
  });
}

/** Native scores where migrated, `bridged` elsewhere (the raw merge of one geometry: reference only). */
export function rawMerge(bridged: Float32Array, native: Float32Array, migrated: Uint8Array): Float32Array {
  const n = migrated.length;
  const out = new Float32Array(bridged);
  for (let i = 0; i < out.length; i++) if (migrated[i % n] === 1) out[i] = native[i] as number;
  return out;
}

/** What reembed's bridged lazy read served, and what it cost, over a run of queries. */
export interface LazyServed {
  /** Top k per query (document indices). */
  readonly runs: number[][];
  /** New-model document embeddings spent by embed-on-read, per query. */
  readonly embedded: number[];
  /** Documents the new namespace holds after the run (more than before only with write-back). */
  readonly migratedAfter: number;
}

/**
 * reembed's read of a lazy migration with embed-on-read (src/app/query.ts `#fused`, src/app/fused-read.ts),
 * replayed on score matrices: the primary side's top 100 (the old namespace read with a mapped query, or a
 * corpus bridge's derived namespace read with the new-model query) and the new namespace's top 100 among
 * the documents it holds; "migrated" = candidates the new namespace holds; the primary's top k that are
 * not migrated are embedded by the new model and scored against the new-model query (`rescored`); then
 * `fuseResults` with coverage-aware-score and no coverage given (the query service passes none: it is
 * estimated per query). With `writeBack`, the embedded documents are written to the new namespace after
 * each query (the lazy migration's observer does that), so later queries see them; without, every query
 * reads the starting state (what `reembed eval` measures: an evaluation has no observers). `depth` is the
 * fusion policy's `rerankDepth`: how many of the primary's top hits embed-on-read considers (default k).
 */
export function lazyEmbedOnRead(
  primary: Float32Array,
  native: Float32Array,
  docIds: readonly string[],
  migrated: Uint8Array,
  writeBack: boolean,
  k = 10,
  depth = k,
): LazyServed {
  const n = docIds.length;
  const nq = primary.length / n;
  const held = new Uint8Array(migrated);
  const runs: number[][] = [];
  const embedded: number[] = [];
  for (let q = 0; q < nq; q++) {
    const pRow = primary.subarray(q * n, (q + 1) * n);
    const nRow = native.subarray(q * n, (q + 1) * n);
    const p = topK(pRow, DEPTH).map((d) => hit(docIds[d] as string, pRow[d] as number));
    const x = topK(nRow, DEPTH, (i) => held[i] === 1).map((d) => hit(docIds[d] as string, nRow[d] as number));
    const index = new Map<string, number>();
    for (const d of topK(pRow, DEPTH)) index.set(docIds[d] as string, d);
    for (const d of topK(nRow, DEPTH, (i) => held[i] === 1)) index.set(docIds[d] as string, d);
    const ids = new Set<string>();
    for (const h of [...p, ...x]) if (held[index.get(h.sourceId) as number] === 1) ids.add(h.sourceId);
    const toEmbed = p.slice(0, Math.max(k, depth)).filter((h) => !ids.has(h.sourceId));
    const rescored = toEmbed.map((h) => hit(h.sourceId, nRow[index.get(h.sourceId) as number] as number));
    const fusedHits = fuseResults({
      primary: { namespace: 'primary', hits: p },
      next: { namespace: 'next', hits: x },
      migrated: ids,
      policy: { method: 'coverage-aware-score', embedOnRead: true },
      k,
      ...(rescored.length > 0 ? { rescored } : {}),
    });
    runs.push(fusedHits.map((h) => index.get(h.sourceId) as number));
    embedded.push(toEmbed.length);
    if (writeBack) for (const h of toEmbed) held[index.get(h.sourceId) as number] = 1;
  }
  return { runs, embedded, migratedAfter: held.reduce((a, b) => a + b, 0) };
}
