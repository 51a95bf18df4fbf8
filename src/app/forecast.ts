import { overlapAt } from '../core/agreement.js';
import { isReembedError, ReembedError } from '../core/errors.js';
import { queryMetrics } from '../core/metrics.js';
import { documentChunks, queryText } from '../core/pipeline.js';
import type { ProbeQuery, ProbeSet } from '../core/probe.js';
import { isNearDuplicate, wordSet } from '../core/probe-text.js';
import { pairedSignificance } from '../core/significance.js';
import type { Space } from '../core/space.js';
import { similarity } from '../core/vector.js';
import type { Backend } from '../ports/backend.js';
import type { Embedder } from '../ports/embedder.js';
import type { EmbedderCache } from './embedders.js';
import { embedAll } from './probes.js';

/**
 * The pre-flight forecast of a migration: a small sample of the collection — a probe set's documents and
 * queries — is embedded in both spaces before anything large is spent, and the probe is scored on that
 * sample in each. It predicts whether the new space finds documents as well as the old one (with a
 * bootstrap interval), how much the two agree, and gives a verdict. Every figure is *probe*: known-item
 * queries, not judged relevance, on a sample of the collection (a smaller haystack than the real one, so
 * absolute values run higher than the full probe's; the comparison is what counts).
 */
export const VERDICTS = ['go', 'no-go', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** The same tolerances as the default probe gates. */
const TOLERANCE: Readonly<Record<string, number>> = { 'mrr@10': 0.01, 'recall@10': 0.02 };

export interface SampleCost {
  readonly documents: number;
  readonly queries: number;
  /** Per space: texts, tokens (as that model counts them) and cost of embedding the sample. */
  readonly old: {
    readonly space: string;
    readonly texts: number;
    readonly tokens: number;
    readonly costUsd: number;
  };
  readonly new: {
    readonly space: string;
    readonly texts: number;
    readonly tokens: number;
    readonly costUsd: number;
  };
  readonly costUsd: number;
}

export interface ForecastMetric {
  readonly old: number;
  readonly new: number;
  readonly diff: number;
  readonly ci95: readonly [number, number];
}

export interface Forecast {
  readonly kind: 'forecast';
  readonly label: 'probe';
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly sample: SampleCost;
  /** Probe MRR@10 and recall@10 of each space on the sample, the difference and its bootstrap interval. */
  readonly metrics: Readonly<Record<string, ForecastMetric>> | null;
  /** Mean overlap@10 of the two spaces' rankings of the probe queries over the sample. */
  readonly overlap: number | null;
  /** Milliseconds per document the new space took to embed the sample (drives the time estimate). */
  readonly newMsPerDocument: number | null;
  readonly seconds: number;
}

export interface ForecastOptions {
  /** Refuse to sample above this cost (default $0.10): the sample is the only thing a plan spends. */
  readonly maxSampleCostUsd?: number;
  /** Called with the sample's cost before any embedding call (the CLI prints it first). */
  readonly onSampleCost?: (cost: SampleCost) => void;
  readonly signal?: AbortSignal;
}

interface Side {
  readonly space: Space;
  readonly embedder: Embedder;
}

/**
 * Forecasts a migration from `from` to `to` on the probe's sample. Embedder failures (no key, no network)
 * do not throw: the verdict is `inconclusive`, with the failure as its reason.
 *
 * @example
 * const f = await forecastMigration(app.backend, app.embedders, fromSpace, toSpace, probe);
 * f.verdict; // 'no-go' when the new space clearly finds the sample's documents less often
 */
export async function forecastMigration(
  backend: Backend,
  embedders: EmbedderCache,
  from: Space,
  to: Space,
  probe: ProbeSet,
  options: ForecastOptions = {},
): Promise<Forecast> {
  const started = performance.now();
  const oldSide: Side = { space: from, embedder: await embedders.get(from) };
  const newSide: Side = { space: to, embedder: await embedders.get(to) };
  const docs = await sampleDocuments(backend, probe);
  const queries = probe.queries.filter((q) => docs.has(q.sourceId));
  const texts = (side: Side) => sampleTexts(side.space, docs, queries);
  const cost = sampleCost(docs.size, queries.length, [oldSide, texts(oldSide)], [newSide, texts(newSide)]);
  options.onSampleCost?.(cost);
  const limit = options.maxSampleCostUsd ?? 0.1;
  const base = { kind: 'forecast' as const, label: 'probe' as const, sample: cost };
  if (cost.costUsd > limit) {
    return done(base, started, 'inconclusive', [
      `the sample would cost $${cost.costUsd.toFixed(4)}, above the limit of $${limit} (raise --max-sample-cost, sample fewer documents with --sample, or plan with --cost-only)`,
    ]);
  }
  let oldScores: SideScores;
  let newScores: SideScores;
  try {
    oldScores = await scoreSide(oldSide, texts(oldSide), options.signal);
    newScores = await scoreSide(newSide, texts(newSide), options.signal);
  } catch (error) {
    const embedding =
      isReembedError(error) &&
      (error.code.startsWith('EMBEDDER') || error.code === 'RATE_LIMITED' || error.code === 'INVALID_SPEC');
    if (!embedding) throw error;
    return done(base, started, 'inconclusive', [
      `embedding the sample failed (${error.code}: ${error.message}); plan with --cost-only for figures that need no embedding call`,
    ]);
  }
  const ids = [...docs.keys()];
  const dupes = nearDuplicates(docs, queries);
  const perQuery = (s: SideScores) => queries.map((q, i) => rankMetrics(s, i, q, ids, dupes.get(q.id)));
  const oldRuns = perQuery(oldScores);
  const newRuns = perQuery(newScores);
  const metrics: Record<string, ForecastMetric> = {};
  for (const metric of Object.keys(TOLERANCE)) {
    const a = oldRuns.map((r) => r.metrics[metric] ?? 0);
    const b = newRuns.map((r) => r.metrics[metric] ?? 0);
    const sig = pairedSignificance(a, b, { iterations: 2_000, seed: 7 });
    metrics[metric] = { old: mean(a), new: mean(b), diff: sig.meanDiff, ci95: sig.ci95 };
  }
  const overlap = mean(oldRuns.map((r, i) => overlapAt(r.top, (newRuns[i] as { top: string[] }).top, 10)));
  const [verdict, reasons] = verdictOf(metrics, queries.length);
  return Object.freeze({
    ...base,
    verdict,
    reasons: Object.freeze(reasons),
    metrics: Object.freeze(metrics),
    overlap,
    newMsPerDocument: newScores.docMs / Math.max(1, docs.size),
    seconds: (performance.now() - started) / 1000,
  });
}

/**
 * `no-go` when the new space is worse than the gates tolerate with 95% confidence on either metric;
 * `go` when, with 95% confidence, it is not (the interval's low end within the tolerance) on both;
 * `inconclusive` in between — a larger sample (`--sample`) narrows the interval.
 */
export function verdictOf(
  metrics: Readonly<Record<string, ForecastMetric>>,
  queries: number,
): [Verdict, string[]] {
  const worse: string[] = [];
  const unsure: string[] = [];
  for (const [metric, m] of Object.entries(metrics)) {
    const tol = TOLERANCE[metric] ?? 0.01;
    const line = `probe ${metric} ${m.new.toFixed(3)} vs ${m.old.toFixed(3)} (difference ${signed(m.diff)}, 95% interval [${signed(m.ci95[0])}, ${signed(m.ci95[1])}])`;
    if (m.ci95[1] < -tol) worse.push(line);
    else if (m.ci95[0] < -tol) unsure.push(line);
  }
  if (worse.length > 0) return ['no-go', worse.map((l) => `the new space is worse: ${l}`)];
  if (unsure.length > 0)
    return [
      'inconclusive',
      [
        ...unsure.map((l) => `cannot rule out a loss: ${l}`),
        `${queries} probe queries; sample more documents (--sample) to narrow the interval`,
      ],
    ];
  return [
    'go',
    Object.entries(metrics).map(
      ([metric, m]) =>
        `probe ${metric} ${m.new.toFixed(3)} vs ${m.old.toFixed(3)} (difference ${signed(m.diff)}, 95% interval [${signed(m.ci95[0])}, ${signed(m.ci95[1])}])`,
    ),
  ];
}

function done(
  base: { kind: 'forecast'; label: 'probe'; sample: SampleCost },
  started: number,
  verdict: Verdict,
  reasons: string[],
): Forecast {
  return Object.freeze({
    ...base,
    verdict,
    reasons: Object.freeze(reasons),
    metrics: null,
    overlap: null,
    newMsPerDocument: null,
    seconds: (performance.now() - started) / 1000,
  });
}

async function sampleDocuments(
  backend: Backend,
  probe: ProbeSet,
): Promise<Map<string, { id: string; text: string }>> {
  const found = await backend.sources.getMany(
    probe.collection,
    probe.queries.map((q) => q.sourceId),
  );
  const out = new Map<string, { id: string; text: string }>();
  for (const q of probe.queries) {
    const doc = found.get(q.sourceId);
    if (doc && !doc.deleted && doc.contentHash === q.contentHash)
      out.set(doc.id, { id: doc.id, text: doc.text });
  }
  if (out.size === 0) {
    throw new ReembedError('PROBE_UNAVAILABLE', 'The sample has no live document left to forecast on.', {
      details: { reason: 'stale' },
    });
  }
  return out;
}

interface SampleTexts {
  /** Document chunks, with the index of their document. */
  readonly docs: readonly { readonly doc: number; readonly text: string }[];
  /** Held-out chunks, with the index of their query. */
  readonly heldOut: readonly { readonly query: number; readonly text: string }[];
  readonly queries: readonly string[];
}

function sampleTexts(
  space: Space,
  docs: ReadonlyMap<string, { id: string; text: string }>,
  queries: readonly ProbeQuery[],
): SampleTexts {
  const docChunks: { doc: number; text: string }[] = [];
  [...docs.values()].forEach((d, i) => {
    for (const c of documentChunks(space.spec, d.id, d.text)) docChunks.push({ doc: i, text: c.text });
  });
  const heldOut: { query: number; text: string }[] = [];
  queries.forEach((q, i) => {
    if (q.heldOut === null) return;
    for (const c of documentChunks(space.spec, q.sourceId, q.heldOut))
      heldOut.push({ query: i, text: c.text });
  });
  return { docs: docChunks, heldOut, queries: queries.map((q) => queryText(space.spec, q.text)) };
}

function sampleCost(
  documents: number,
  queries: number,
  ...sides: [[Side, SampleTexts], [Side, SampleTexts]]
): SampleCost {
  const one = ([side, t]: [Side, SampleTexts]) => {
    const all = [...t.docs.map((d) => d.text), ...t.heldOut.map((h) => h.text), ...t.queries];
    const tokens = all.reduce((s, text) => s + side.embedder.countTokens(text), 0);
    const costUsd = (tokens / 1e6) * side.space.runtime.pricePerMillionTokens;
    return { space: side.space.name, texts: all.length, tokens, costUsd };
  };
  const [o, n] = [one(sides[0]), one(sides[1])];
  return { documents, queries, old: o, new: n, costUsd: o.costUsd + n.costUsd };
}

interface SideScores {
  /** scores[q][d]: best chunk score of document d for query q. */
  readonly docs: Float64Array[];
  /** Best held-out chunk score per query (−∞ when not held out). */
  readonly heldOut: Float64Array;
  readonly docMs: number;
}

async function scoreSide(side: Side, texts: SampleTexts, signal?: AbortSignal): Promise<SideScores> {
  const metric = side.space.spec.metric;
  const t0 = performance.now();
  const docVectors = await embedAll(
    side.embedder,
    texts.docs.map((d) => d.text),
    'document',
    signal,
  );
  const docMs = performance.now() - t0;
  const heldVectors = await embedAll(
    side.embedder,
    texts.heldOut.map((h) => h.text),
    'document',
    signal,
  );
  const queryVectors = await embedAll(side.embedder, texts.queries, 'query', signal);
  const docCount = texts.docs.reduce((m, d) => Math.max(m, d.doc + 1), 0);
  const docs = queryVectors.map((q) => {
    const row = new Float64Array(docCount).fill(Number.NEGATIVE_INFINITY);
    texts.docs.forEach((d, i) => {
      row[d.doc] = Math.max(row[d.doc] as number, similarity(metric, q, docVectors[i] as Float32Array));
    });
    return row;
  });
  const heldOut = new Float64Array(queryVectors.length).fill(Number.NEGATIVE_INFINITY);
  texts.heldOut.forEach((h, i) => {
    const score = similarity(metric, queryVectors[h.query] as Float32Array, heldVectors[i] as Float32Array);
    heldOut[h.query] = Math.max(heldOut[h.query] as number, score);
  });
  return { docs, heldOut, docMs };
}

/** Near-duplicates of each query's document within the sample (not counted as misses). */
function nearDuplicates(
  docs: ReadonlyMap<string, { id: string; text: string }>,
  queries: readonly ProbeQuery[],
): Map<string, Set<string>> {
  const words = new Map([...docs].map(([id, d]) => [id, wordSet(d.text)]));
  const out = new Map<string, Set<string>>();
  for (const q of queries) {
    const own = words.get(q.sourceId) as Set<string>;
    const set = new Set<string>();
    for (const [id, w] of words) if (id !== q.sourceId && isNearDuplicate(own, w)) set.add(id);
    out.set(q.id, set);
  }
  return out;
}

/** The query's metrics on the sample (its document held out) and its plain top 10 (for agreement). */
function rankMetrics(
  scores: SideScores,
  index: number,
  q: ProbeQuery,
  ids: readonly string[],
  dupes: ReadonlySet<string> = new Set(),
): { metrics: Readonly<Record<string, number>>; top: string[] } {
  const row = scores.docs[index] as Float64Array;
  const order = ids.map((id, d) => ({ id, score: row[d] as number })).sort((a, b) => b.score - a.score);
  const top = order.slice(0, 10).map((o) => o.id);
  const target =
    q.heldOut === null
      ? (order.find((o) => o.id === q.sourceId)?.score ?? -Infinity)
      : (scores.heldOut[index] as number);
  const ranking: string[] = [];
  let placed = false;
  for (const o of order) {
    if (o.id === q.sourceId || dupes.has(o.id)) continue;
    if (!placed && o.score < target) {
      ranking.push(q.sourceId);
      placed = true;
    }
    ranking.push(o.id);
  }
  if (!placed) ranking.push(q.sourceId);
  return { metrics: queryMetrics(ranking, { [q.sourceId]: 1 }, [10]), top };
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
