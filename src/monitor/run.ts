import type { Reembed } from '../app/reembed.js';
import { measureCoverage } from '../app/status.js';
import type { Namespace } from '../core/namespace.js';
import { type Alias, bridgeOf, type Routing } from '../core/routing.js';
import { jobLiveness } from '../jobs/liveness.js';
import type { TrafficRepository } from '../ports/traffic.js';
import {
  type CheckStatus,
  DEFAULT_THRESHOLDS,
  type MonitorCheck,
  type MonitorThresholds,
  namespaceChecks,
} from './checks.js';
import { type AliasTrafficStats, summarizeTraffic, type TrafficSummary } from './traffic-summary.js';

export interface MonitorOptions {
  /** Only this collection's namespaces (`NOT_FOUND` when it does not exist). */
  readonly collection?: string;
  /** Traffic source (default: the backend's); `null` skips traffic checks. */
  readonly traffic?: TrafficRepository | null;
  /** Traffic window start (default: 24 hours before `now`). */
  readonly since?: Date;
  readonly now?: Date;
  readonly thresholds?: Partial<MonitorThresholds>;
}

/** One row per namespace: the numbers `reembed status` shows next to the manifest, and the worst status. */
export interface NamespaceHealth {
  readonly namespace: string;
  readonly collection: string;
  readonly state: Namespace['state'];
  readonly serving: boolean;
  readonly status: CheckStatus;
  readonly records: number;
  readonly fingerprintShare: number | null;
  readonly coverage: number | null;
  readonly stale: number | null;
  readonly resurrected: number | null;
  readonly trafficShare: number | null;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly mixedVersionRate: number | null;
}

export interface MonitorReport {
  readonly kind: 'monitor-report';
  readonly at: string;
  readonly collection: string | null;
  /** Start of the traffic window, or null when traffic was not read. */
  readonly since: string | null;
  readonly checks: readonly MonitorCheck[];
  readonly alerts: number;
  readonly warnings: number;
  readonly namespaces: readonly NamespaceHealth[];
  readonly aliases: readonly AliasTrafficStats[];
}

const DAY_MS = 86_400_000;
const RANK: Record<CheckStatus, number> = { ok: 0, warn: 1, alert: 2 };

/** Namespaces an alias serves from (the shadow of a shadow routing is compared, never served). */
function servedBy(routing: Routing): string[] {
  switch (routing.kind) {
    case 'single':
      return [routing.namespace];
    case 'shadow':
      return [routing.primary];
    case 'split':
    case 'fused':
      return [routing.primary, routing.next];
  }
}

/**
 * Runs every monitor check once over the namespaces of one collection (or all): fingerprint and dimension
 * of stored records, coverage, stale and resurrected documents against the source, and from traffic
 * statistics the share, latency p50/p99 and mixed-version rate. Reads only.
 *
 * @example
 * const report = await runMonitor(app, { collection: 'docs' });
 * if (report.alerts > 0) console.error(report.checks.filter((c) => c.status === 'alert'));
 */
export async function runMonitor(app: Reembed, options: MonitorOptions = {}): Promise<MonitorReport> {
  const { catalog, store } = app.backend;
  if (options.collection !== undefined) await catalog.getCollection(options.collection);
  const now = options.now ?? new Date();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...(options.thresholds ?? {}) };
  const namespaces = (await catalog.listNamespaces(options.collection)).filter(
    (ns) => ns.state !== 'retired',
  );
  const aliases = await catalog.listAliases(options.collection);
  const serving = new Set(aliases.flatMap((a) => servedBy(a.routing)));

  const repository = options.traffic === undefined ? (app.backend.traffic ?? null) : options.traffic;
  const since = options.since ?? new Date(now.getTime() - DAY_MS);
  let traffic: TrafficSummary | null = null;
  if (repository) {
    const filter = options.collection === undefined ? { since } : { since, collection: options.collection };
    traffic = summarizeTraffic(await repository.read(filter));
  }
  const window = `since ${since.toISOString()}`;

  const checks: MonitorCheck[] = [];
  const health: NamespaceHealth[] = [];
  for (const ns of namespaces) {
    const [stats, coverage] = [await store.stats(ns.name), await measureCoverage(app.backend, ns)];
    const nsTraffic = traffic === null ? undefined : (traffic.namespaces[ns.name] ?? null);
    const backfill = await backfillObservation(app, ns, now);
    const own = namespaceChecks(
      {
        namespace: ns,
        serving: serving.has(ns.name),
        stats,
        coverage,
        traffic: nsTraffic,
        window,
        ...(backfill ? { backfill } : {}),
      },
      thresholds,
    );
    checks.push(...own);
    const value = (name: MonitorCheck['check']): number | null =>
      own.find((c) => c.check === name)?.value ?? null;
    health.push(
      Object.freeze({
        namespace: ns.name,
        collection: ns.collection,
        state: ns.state,
        serving: serving.has(ns.name),
        status: own.reduce<CheckStatus>(
          (worst, c) => (RANK[c.status] > RANK[worst] ? c.status : worst),
          'ok',
        ),
        records: stats.records,
        fingerprintShare: value('fingerprint'),
        coverage: value('coverage'),
        stale: value('stale'),
        resurrected: value('resurrected'),
        trafficShare: value('traffic-share'),
        latencyP50Ms: value('latency-p50'),
        latencyP99Ms: value('latency-p99'),
        mixedVersionRate: value('mixed-version'),
      }),
    );
  }
  checks.push(...(await bridgeChecks(app, aliases, now, thresholds.bridgeEvaluationWarnDays)));
  const report: MonitorReport = Object.freeze({
    kind: 'monitor-report' as const,
    at: now.toISOString(),
    collection: options.collection ?? null,
    since: traffic === null ? null : since.toISOString(),
    checks: Object.freeze(checks),
    alerts: checks.filter((c) => c.status === 'alert').length,
    warnings: checks.filter((c) => c.status === 'warn').length,
    namespaces: Object.freeze(health),
    aliases: Object.freeze(Object.values(traffic?.aliases ?? {})),
  });
  return report;
}

/**
 * Every bridge an alias serves through (issue 17): alert when its adapter was revoked or its latest
 * evaluation failed (a drift re-evaluation below the gate), warn when the latest evaluation is older than
 * `warnDays` (the scheduled drift re-evaluation is due). Reported on the bridged primary namespace.
 */
async function bridgeChecks(
  app: Reembed,
  aliases: readonly Alias[],
  now: Date,
  warnDays: number,
): Promise<MonitorCheck[]> {
  const adapters = app.backend.adapters;
  if (!adapters) return [];
  const checks: MonitorCheck[] = [];
  for (const alias of aliases) {
    const route = bridgeOf(alias.routing);
    if (!route || (alias.routing.kind !== 'fused' && alias.routing.kind !== 'split')) continue;
    const namespace = alias.routing.primary;
    const record = await adapters.get(route.adapter);
    const { adapter, latest } = record;
    const refit = `refit: reembed adapter fit ${adapter.spec.collection} --from <old> --to <new> --direction ${adapter.spec.direction} --golden <set>`;
    const value = latest ? (latest.facts[`bridged.${latest.metric}`] ?? null) : null;
    const age = latest ? (now.getTime() - Date.parse(latest.at)) / DAY_MS : Number.POSITIVE_INFINITY;
    let status: CheckStatus = 'ok';
    let detail: string;
    if (record.state !== 'passed') {
      status = 'alert';
      detail = `alias ${alias.name} routes through adapter ${adapter.name}, which is ${record.state}: queries are refused; ${refit}, or roll the migration back`;
    } else if (latest && !latest.passed) {
      status = 'alert';
      const failed = latest.results.filter((r) => !r.passed).map((r) => r.detail);
      detail = `adapter ${adapter.name}'s ${latest.reason} evaluation of ${latest.at} failed its gate (${failed.join('; ')}): the corpus or queries drifted; ${refit}, or revoke it (reembed adapter revoke ${adapter.name})`;
    } else if (age > warnDays) {
      status = 'warn';
      detail = `adapter ${adapter.name} was last evaluated ${Number.isFinite(age) ? `${age.toFixed(1)} days ago` : 'never'} (more than ${warnDays}): re-evaluate it, reembed adapter eval ${adapter.name} --drift --golden <set>`;
    } else {
      detail = `adapter ${adapter.name} passed its ${latest?.reason ?? ''} evaluation of ${latest?.at ?? ''}${value !== null ? ` (bridged ${latest?.metric} ${value.toFixed(3)})` : ''}`;
    }
    checks.push(Object.freeze({ namespace, check: 'bridge' as const, status, value, detail }));
  }
  return checks;
}

/** The backfill job of a namespace as it really is (a dead runner is `interrupted`), and its dead letters. */
async function backfillObservation(
  app: Reembed,
  ns: Namespace,
  now: Date,
): Promise<{ state: string; detail: string | null; deadLetters: number } | null> {
  const jobs = app.backend.jobs;
  if (!jobs) return null;
  const job = await jobs.getJob(`backfill:${ns.name}`);
  const live = job ? jobLiveness(job, { now }) : { state: 'not-run', detail: null };
  return { state: live.state, detail: live.detail, deadLetters: await jobs.countDeadLetters(ns.name) };
}

/**
 * The extra monitor columns for `reembed status`, keyed by namespace name (runs the checks once).
 *
 * @example
 * const health = await monitorColumns(app, 'docs');
 * health.get('docs@v2')?.mixedVersionRate;
 */
export async function monitorColumns(
  app: Reembed,
  collection?: string,
): Promise<Map<string, NamespaceHealth>> {
  const report = await runMonitor(app, collection === undefined ? {} : { collection });
  return new Map(report.namespaces.map((h) => [h.namespace, h]));
}
