import type { Coverage } from '../app/status.js';
import type { Namespace } from '../core/namespace.js';
import type { NamespaceStats } from '../core/records.js';
import type { NamespaceTrafficStats } from './traffic-summary.js';

/**
 * The monitor's checks for one namespace, as a pure function of what was measured: store stats, coverage
 * against the source, and traffic. Alerts mean "wrong now" (a foreign fingerprint or dimension, a deleted
 * document back, a mixed-version response); warnings mean "needs attention" (stale records on a serving
 * namespace, slow p99, traffic to a retiring namespace).
 */
export const CHECK_STATUSES = ['ok', 'warn', 'alert'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const CHECK_NAMES = [
  'fingerprint',
  'dimension',
  'coverage',
  'stale',
  'resurrected',
  'dead-letters',
  'traffic-share',
  'latency-p50',
  'latency-p99',
  'mixed-version',
  'bridge',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface MonitorCheck {
  readonly namespace: string;
  readonly check: CheckName;
  readonly status: CheckStatus;
  /** The measured number (share, count, ms, rate), or null when nothing could be measured. */
  readonly value: number | null;
  readonly detail: string;
}

export interface MonitorThresholds {
  /** A serving namespace below this coverage alerts (below 1 it warns). Default 0.95. */
  readonly coverageAlertBelow: number;
  /** p99 read latency (ms) above which a namespace warns. Default 1000. */
  readonly latencyP99WarnMs: number;
  /** p50 read latency (ms) above which a namespace warns. Default: never. */
  readonly latencyP50WarnMs: number;
  /** Mixed-version rate above which a namespace alerts. Default 0: any mixed response alerts. */
  readonly mixedVersionAlertAbove: number;
  /** A serving bridge whose last evaluation is older than this many days warns (drift re-evaluation is due). Default 7. */
  readonly bridgeEvaluationWarnDays: number;
}

export const DEFAULT_THRESHOLDS: MonitorThresholds = Object.freeze({
  coverageAlertBelow: 0.95,
  latencyP99WarnMs: 1000,
  latencyP50WarnMs: Number.POSITIVE_INFINITY,
  mixedVersionAlertAbove: 0,
  bridgeEvaluationWarnDays: 7,
});

export interface NamespaceObservation {
  readonly namespace: Namespace;
  /** True when an alias serves it (single routing, or primary/next of a split or fusion). */
  readonly serving: boolean;
  readonly stats: NamespaceStats;
  readonly coverage: Coverage;
  /** `undefined` when the backend keeps no traffic statistics; null when the window saw no query. */
  readonly traffic: NamespaceTrafficStats | null | undefined;
  /** Human description of the traffic window, e.g. "last 24h". */
  readonly window: string;
  /**
   * The namespace's backfill, when the backend keeps jobs: its effective state (a job whose runner died
   * is `interrupted`) and its dead letters. Undefined: not measured.
   */
  readonly backfill?: {
    readonly state: string;
    readonly detail: string | null;
    readonly deadLetters: number;
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 2)}%`;
const ms = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;

/** Every check of one namespace, in `CHECK_NAMES` order. */
export function namespaceChecks(
  o: NamespaceObservation,
  thresholds: MonitorThresholds = DEFAULT_THRESHOLDS,
): MonitorCheck[] {
  const name = o.namespace.name;
  const make = (check: CheckName, status: CheckStatus, value: number | null, detail: string): MonitorCheck =>
    Object.freeze({ namespace: name, check, status, value, detail });
  return [
    fingerprintCheck(o, make),
    dimensionCheck(o, make),
    ...coverageChecks(o, thresholds, make),
    ...trafficChecks(o, thresholds, make),
  ];
}

type Make = (check: CheckName, status: CheckStatus, value: number | null, detail: string) => MonitorCheck;

function fingerprintCheck(o: NamespaceObservation, make: Make): MonitorCheck {
  const own = o.namespace.space.fingerprint;
  const total = o.stats.records;
  if (total === 0) return make('fingerprint', 'ok', 1, 'no records yet');
  const foreign = Object.entries(o.stats.fingerprints).filter(([fp]) => fp !== own);
  const share = (o.stats.fingerprints[own] ?? 0) / total;
  if (foreign.length === 0) return make('fingerprint', 'ok', share, `100% ${own}`);
  const list = foreign.map(([fp, n]) => `${fp} (${n})`).join(', ');
  return make(
    'fingerprint',
    'alert',
    share,
    `${pct(share)} ${own}; foreign fingerprints: ${list}. Records were written behind the namespace guard: drop them and re-run the backfill.`,
  );
}

function dimensionCheck(o: NamespaceObservation, make: Make): MonitorCheck {
  const want = o.namespace.space.spec.dimension;
  const total = o.stats.records;
  if (total === 0) return make('dimension', 'ok', 1, `space dimension ${want}; no records yet`);
  const wrong = Object.entries(o.stats.dimensions).filter(([d]) => Number(d) !== want);
  const share = (o.stats.dimensions[String(want)] ?? 0) / total;
  if (wrong.length === 0)
    return make('dimension', 'ok', share, `all ${total} vectors have ${want} dimensions`);
  const list = wrong.map(([d, n]) => `${n} of ${d}`).join(', ');
  return make(
    'dimension',
    'alert',
    share,
    `space dimension ${want}, but stored vectors: ${list}; these records are corrupt.`,
  );
}

function coverageChecks(o: NamespaceObservation, t: MonitorThresholds, make: Make): MonitorCheck[] {
  const c = o.coverage;
  const missing = c.live - c.current - c.stale;
  const role = o.serving ? 'serving' : o.namespace.state;
  let coverage: CheckStatus = 'ok';
  if (o.serving && c.ratio < t.coverageAlertBelow) coverage = 'alert';
  else if (o.serving && c.ratio < 1) coverage = 'warn';
  const coverageDetail =
    `${c.current}/${c.live} live documents current (${missing} missing, ${c.stale} stale)` +
    (o.serving || c.ratio === 1 ? '' : `; ${role}: ${backfillPhrase(o)}`);
  const stale = o.serving && c.stale > 0 ? 'warn' : 'ok';
  return [
    make('coverage', coverage, c.ratio, coverageDetail),
    make(
      'stale',
      stale,
      c.stale,
      c.stale === 0
        ? 'no record behind its source version'
        : `${c.stale} documents changed at the source since they were embedded; run the backfill to regenerate them`,
    ),
    make(
      'resurrected',
      c.resurrected > 0 ? 'alert' : 'ok',
      c.resurrected,
      c.resurrected === 0
        ? 'no deleted document present'
        : `${c.resurrected} documents deleted at the source still have records (invariant 5); re-apply the deletes`,
    ),
    deadLetterCheck(o, make),
  ];
}

/** What the backfill of a namespace that is not complete is doing — never "in progress" when it is not. */
function backfillPhrase(o: NamespaceObservation): string {
  const b = o.backfill;
  const ns = o.namespace.name;
  if (!b) return 'backfill incomplete';
  const c = o.coverage;
  const onlyDead = b.deadLetters > 0 && c.current + b.deadLetters >= c.live;
  if (b.state === 'running') return `backfill running${b.detail ? ` (${b.detail})` : ''}`;
  if (onlyDead)
    return `backfill finished but ${b.deadLetters} documents are dead-lettered: reembed backfill retry-dead ${ns}`;
  if (b.state === 'interrupted')
    return `backfill interrupted (${b.detail}): resume with reembed backfill run ${ns}`;
  if (b.state === 'failed' || b.state === 'aborted')
    return `backfill ${b.state}: resume with reembed backfill run ${ns}`;
  return `backfill not running: run reembed backfill run ${ns}`;
}

function deadLetterCheck(o: NamespaceObservation, make: Make): MonitorCheck {
  const dead = o.backfill?.deadLetters;
  if (dead === undefined)
    return make('dead-letters', 'ok', null, 'dead letters not measured: this backend keeps no jobs');
  if (dead === 0) return make('dead-letters', 'ok', 0, 'no dead-lettered document');
  return make(
    'dead-letters',
    'warn',
    dead,
    `${dead} documents were dead-lettered (the backfill could not embed them); their reasons are in reembed migrate status. ` +
      `Fix the cause and retry them: reembed backfill retry-dead ${o.namespace.name}`,
  );
}

function trafficChecks(o: NamespaceObservation, t: MonitorThresholds, make: Make): MonitorCheck[] {
  const checks = ['traffic-share', 'latency-p50', 'latency-p99', 'mixed-version'] as const;
  if (o.traffic === undefined) {
    return checks.map((c) => make(c, 'ok', null, 'no traffic statistics: this backend does not record them'));
  }
  const tr = o.traffic;
  if (tr === null || tr.queries === 0) {
    const share = o.serving || tr === null ? null : 0;
    return checks.map((c) =>
      make(
        c,
        'ok',
        c === 'traffic-share' ? share : null,
        `no queries ${o.window}${tr ? ` (${tr.shadowReads} shadow reads)` : ''}`,
      ),
    );
  }
  const retiring = o.namespace.state === 'retiring' || o.namespace.state === 'retired';
  const { p50, p99 } = tr.latency;
  const mixedRate = tr.mixedRate ?? 0;
  return [
    make(
      'traffic-share',
      retiring ? 'warn' : 'ok',
      tr.share,
      `${tr.queries} queries ${o.window}${tr.share === null ? '' : ` (${pct(tr.share)} of the collection)`}, last ${tr.lastQueryAt}` +
        (retiring ? `; a ${o.namespace.state} namespace should get no traffic` : ''),
    ),
    make(
      'latency-p50',
      p50 !== null && p50 > t.latencyP50WarnMs ? 'warn' : 'ok',
      p50,
      `p50 ${p50 === null ? '-' : ms(p50)} over ${tr.latency.samples} reads`,
    ),
    make(
      'latency-p99',
      p99 !== null && p99 > t.latencyP99WarnMs ? 'warn' : 'ok',
      p99,
      `p99 ${p99 === null ? '-' : ms(p99)} over ${tr.latency.samples} reads (warn above ${ms(t.latencyP99WarnMs)})`,
    ),
    make(
      'mixed-version',
      mixedRate > t.mixedVersionAlertAbove ? 'alert' : 'ok',
      mixedRate,
      tr.mixed === 0
        ? `no mixed-version response in ${tr.queries} queries`
        : `${tr.mixed} of ${tr.queries} responses mixed records of several spaces without fusion`,
    ),
  ];
}
