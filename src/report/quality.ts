import { evaluateAlias, evaluateNamespace, type TargetEvaluation } from '../app/evaluate.js';
import type { Reembed } from '../app/reembed.js';
import type { GoldenSet } from '../core/golden.js';
import type { Alias } from '../core/routing.js';
import type { QualityRow, ReportNamespace } from './data.js';

/**
 * The quality half of a report: golden-set evaluations of every live namespace and of every alias that
 * serves a mix of two namespaces during a migration. A namespace's result is kept in its manifest
 * (`info.lastEval`, the place the design gives "last eval"), so a later report without a golden set, and
 * `reembed status --json`, still show it.
 */
export const LAST_EVAL_KEY = 'lastEval';

/** What `info.lastEval` of a namespace holds. */
export interface StoredEvaluation {
  readonly kind: 'namespace-evaluation';
  readonly at: string;
  readonly golden: { readonly name: string; readonly digest: string; readonly queries: number };
  readonly metrics: Readonly<Record<string, number>>;
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly coverage: number | null;
  readonly errors: number;
}

export interface QualityEvaluationOptions {
  /** Cut-offs (default [10]: the report charts nDCG@10 and recall@10). */
  readonly ks?: readonly number[];
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Keep namespace results in their manifests (default true). */
  readonly store?: boolean;
  /** Called before each target with its name and the number of golden queries. */
  readonly onTarget?: (target: string, queries: number) => void;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
  readonly now?: () => Date;
  /** Score judged documents the collection lacks as misses instead of refusing (default false). */
  readonly allowUnknownDocs?: boolean;
}

/** How an alias routes, in a few words (`split 40%`, `fused rrf`), when it serves a mix; null for single and shadow. */
export function mixedRouting(alias: Alias): string | null {
  const r = alias.routing;
  if (r.kind === 'split') {
    const n = r.tenants.length;
    return `split ${r.percent}%${n ? ` + ${n} tenant${n === 1 ? '' : 's'}` : ''}`;
  }
  if (r.kind === 'fused') return `fused ${r.fusion.method}`;
  return null;
}

/**
 * Evaluates each namespace that holds records and each alias whose routing mixes two namespaces, on one
 * golden set. Reads only the namespaces (a private query engine: no traffic, no shadow samples); writes
 * only `info.lastEval` of the evaluated namespaces.
 *
 * @example
 * const rows = await evaluateForReport(app, golden, data.namespaces, await app.backend.catalog.listAliases('docs'));
 */
export async function evaluateForReport(
  app: Reembed,
  golden: GoldenSet,
  namespaces: readonly ReportNamespace[],
  aliases: readonly Alias[],
  options: QualityEvaluationOptions = {},
): Promise<QualityRow[]> {
  const now = options.now ?? (() => new Date());
  const run = {
    ks: options.ks ?? [10],
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.allowUnknownDocs ? { allowUnknownDocs: true } : {}),
  };
  const rows: QualityRow[] = [];
  for (const ns of namespaces) {
    if (ns.records === 0 || ns.state === 'retired') continue;
    options.onTarget?.(ns.name, golden.queries.length);
    const result = await evaluateNamespace(app, ns.name, golden, run);
    const stored = storedEvaluation(result, ns.coverage, now());
    if (options.store !== false)
      await app.backend.catalog.updateNamespaceInfo(ns.name, { [LAST_EVAL_KEY]: stored });
    rows.push(qualityRow(ns, stored, 'evaluation'));
  }
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  for (const alias of aliases) {
    const routing = mixedRouting(alias);
    if (routing === null) continue;
    const r = alias.routing;
    const next = r.kind === 'split' || r.kind === 'fused' ? byName.get(r.next) : undefined;
    options.onTarget?.(alias.name, golden.queries.length);
    const result = await evaluateAlias(app, alias.name, golden, run);
    const stored = storedEvaluation(result, next?.coverage ?? null, now());
    rows.push(
      Object.freeze({
        ...qualityRow(
          { name: alias.name, collection: alias.collection, state: 'serving', role: null },
          stored,
          'evaluation',
        ),
        kind: 'alias' as const,
        role: 'during migration',
        routing,
      }),
    );
  }
  return rows;
}

/** Rows of the namespaces whose manifest holds a stored evaluation. */
export function storedQuality(
  namespaces: readonly (ReportNamespace & { readonly info?: Readonly<Record<string, unknown>> })[],
): QualityRow[] {
  const rows: QualityRow[] = [];
  for (const ns of namespaces) {
    const stored = ns.info?.[LAST_EVAL_KEY];
    if (isStoredEvaluation(stored)) rows.push(qualityRow(ns, stored, 'stored'));
  }
  return rows;
}

export function isStoredEvaluation(value: unknown): value is StoredEvaluation {
  const v = value as Partial<StoredEvaluation> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.kind === 'namespace-evaluation' &&
    typeof v.metrics === 'object' &&
    typeof v.golden === 'object' &&
    typeof v.at === 'string'
  );
}

function storedEvaluation(result: TargetEvaluation, coverage: number | null, at: Date): StoredEvaluation {
  return Object.freeze({
    kind: 'namespace-evaluation' as const,
    at: at.toISOString(),
    golden: { ...result.golden },
    metrics: { ...result.metrics },
    latency: { p50: result.latency.p50, p99: result.latency.p99 },
    coverage,
    errors: result.errors.count,
  });
}

function qualityRow(
  ns: Pick<ReportNamespace, 'name' | 'collection' | 'state' | 'role'>,
  e: StoredEvaluation,
  source: QualityRow['source'],
): QualityRow {
  return Object.freeze({
    target: ns.name,
    kind: 'namespace' as const,
    collection: ns.collection,
    role: ns.role ?? ns.state,
    routing: null,
    metrics: e.metrics,
    latency: e.latency,
    coverage: e.coverage,
    at: e.at,
    golden: e.golden,
    errors: e.errors,
    source,
  });
}
