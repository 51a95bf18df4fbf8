import { assertJudgedDocsKnown, judgedDocsHeld } from '../app/golden-sets.js';
import type { Reembed } from '../app/reembed.js';
import { defined } from '../core/defined.js';
import { ReembedError } from '../core/errors.js';
import type { GoldenSet } from '../core/golden.js';
import type { Migration } from '../core/migration.js';
import type { Namespace } from '../core/namespace.js';
import type { NamespaceStats } from '../core/records.js';
import { summarizeTraffic } from '../monitor/traffic-summary.js';
import type { CoverageSample } from '../ports/coverage-samples.js';
import { sampleCoverage } from './coverage.js';
import type { QualityCurves } from './curves.js';
import type {
  LatencyRow,
  QualityRow,
  QualitySkip,
  ReportData,
  ReportMigration,
  ReportNamespace,
  TrafficMinute,
  TrafficRow,
  VersionShare,
} from './data.js';
import { evaluateForReport, type QualityEvaluationOptions, storedQuality } from './quality.js';

/**
 * A golden set and the collection it judges; `collection: null` means every collection of the report that
 * holds all of its judged documents (the others are listed in `quality.skipped`, never an error).
 */
export interface ReportGolden {
  readonly collection: string | null;
  readonly golden: GoldenSet;
}

export interface CollectReportOptions {
  /** Only this collection (`NOT_FOUND` when it does not exist). */
  readonly collection?: string;
  /** Evaluate on this golden set now, on every collection that holds its judged documents (see `goldens`). */
  readonly golden?: GoldenSet | null;
  /**
   * Golden sets per collection, each evaluated on its own collection's namespaces and aliases (a set named
   * for a collection that lacks judged documents is refused). Without any, stored evaluations are shown.
   */
  readonly goldens?: readonly ReportGolden[];
  /**
   * Score judged documents a collection lacks as misses: a set named for a collection is evaluated even
   * so, and a set for every collection is applied to each collection holding any of its judged documents.
   */
  readonly allowUnknownDocs?: boolean;
  readonly evaluation?: QualityEvaluationOptions;
  /** Quality-during-migration curves to chart, with the file they came from. */
  readonly curves?: { readonly source: string; readonly curves: QualityCurves } | null;
  /** Traffic window start (default 24 hours before `now`). */
  readonly since?: Date;
  /** Report time (default: the backend's clock). */
  readonly now?: Date;
}

const DAY_MS = 86_400_000;

/**
 * Gathers what a report shows from a deployment: manifests and coverage (recording a coverage sample, so
 * every report adds a point to the history), the coverage history, fingerprint shares, migrations and
 * their timelines, traffic share and latency from the recorded query traffic, and quality — evaluated now
 * with a golden set, else read from the manifests. Writes only the coverage sample and, with a golden
 * set, each evaluated namespace's `info.lastEval`.
 *
 * @example
 * const data = await collectReport(app, { collection: 'docs', golden });
 * const files = await writeReport(data, { out: 'report.html', pngDir: 'charts' });
 */
export async function collectReport(app: Reembed, options: CollectReportOptions = {}): Promise<ReportData> {
  const { catalog, store } = app.backend;
  const collection = options.collection;
  if (collection !== undefined) await catalog.getCollection(collection);
  const now = options.now ?? app.backend.clock?.now() ?? new Date();
  const since = options.since ?? new Date(now.getTime() - DAY_MS);

  const live = (await catalog.listNamespaces(collection)).filter((ns) => ns.state !== 'retired');
  const sampling = await sampleCoverage(app, defined({ collection, now }));
  const sampleOf = new Map(sampling.samples.map((s) => [s.namespace, s]));
  const migrations = await listMigrations(app, collection);
  const roles = migrationRoles(migrations);

  const stats = new Map<string, NamespaceStats>();
  for (const ns of live) stats.set(ns.name, await store.stats(ns.name));
  const namespaces = live.map((ns) => namespaceRow(ns, stats.get(ns.name), sampleOf.get(ns.name), roles));

  const goldens: ReportGolden[] = [
    ...(options.goldens ?? []),
    ...(options.golden ? [{ collection: null, golden: options.golden }] : []),
  ];
  let quality: QualityRow[];
  const skipped: QualitySkip[] = [];
  if (goldens.length > 0) {
    const scope =
      collection !== undefined ? [collection] : (await catalog.listCollections()).map((c) => c.name);
    quality = [];
    for (const { collection: named, golden } of goldens) {
      if (named !== null && collection !== undefined && named !== collection) continue;
      if (named !== null) await catalog.getCollection(named);
      let evaluated = 0;
      let empty = 0;
      for (const c of named !== null ? [named] : scope) {
        if (named === null) {
          const reason = await judgedDocsMissing(app, c, golden, options.allowUnknownDocs === true);
          if (reason !== null) {
            skipped.push(Object.freeze({ collection: c, golden: golden.name, reason }));
            if (reason === EMPTY) empty++;
            continue;
          }
        } else if (!options.allowUnknownDocs) await assertJudgedDocsKnown(app.backend, c, golden);
        const own = namespaces.filter((n) => n.collection === c);
        quality.push(
          ...(await evaluateForReport(app, golden, own, await catalog.listAliases(c), {
            now: () => now,
            ...(options.evaluation ?? {}),
            ...(options.allowUnknownDocs ? { allowUnknownDocs: true } : {}),
          })),
        );
        evaluated++;
      }
      // Only empty collections in scope: nothing to evaluate yet, which is no error.
      if (evaluated === 0 && named === null && empty < scope.length)
        throw noCollectionJudged(golden, skipped);
    }
  } else {
    quality = storedQuality(namespaces.map((n, i) => ({ ...n, info: live[i]?.info ?? {} })));
  }

  const spaceNames = new Map((await catalog.listSpaces()).map((s) => [s.fingerprint, s.name]));
  const versions: VersionShare[] = [];
  for (const ns of live) {
    const s = stats.get(ns.name);
    if (!s || s.records === 0) continue;
    const entries = Object.entries(s.fingerprints).sort((a, b) => b[1] - a[1]);
    for (const [fingerprint, records] of entries) {
      versions.push(
        Object.freeze({
          namespace: ns.name,
          fingerprint,
          space: spaceNames.get(fingerprint) ?? null,
          records,
          share: records / s.records,
          foreign: fingerprint !== ns.space.fingerprint,
        }),
      );
    }
  }

  const traffic = await readTraffic(app, collection, since);
  let latency = traffic.latency;
  if (latency.length === 0) {
    latency = quality
      .filter((q) => q.kind === 'namespace')
      .map((q) => ({
        namespace: q.target,
        p50: q.latency.p50,
        p99: q.latency.p99,
        samples: q.golden.queries,
        source: 'evaluation' as const,
      }));
  }

  return Object.freeze({
    kind: 'report-data' as const,
    generatedAt: now.toISOString(),
    collection: collection ?? null,
    since: since.toISOString(),
    namespaces,
    migrations,
    quality: Object.freeze({
      rows: quality,
      curves: options.curves?.curves.points ?? [],
      curvesSource: options.curves?.source ?? null,
      curvesDataset: options.curves?.curves.dataset ?? null,
      skipped: Object.freeze(skipped),
    }),
    coverage: await coverageHistory(app, collection, sampling.samples),
    coverageHistory: sampling.stored,
    versions,
    latency,
    traffic: traffic.rows,
    trafficByMinute: traffic.minutes,
  });
}

const EMPTY = 'holds no documents yet';

/** Why a collection cannot be judged by a golden set (it lacks some judged documents), or null when it can. */
async function judgedDocsMissing(
  app: Reembed,
  collection: string,
  golden: GoldenSet,
  allowUnknown: boolean,
): Promise<string | null> {
  const { judged, held } = await judgedDocsHeld(app.backend, collection, golden);
  if (held === judged || (allowUnknown && held > 0)) return null;
  if (held === 0 && (await app.backend.sources.count(collection)).live === 0) return EMPTY;
  return held === 0
    ? `holds none of the ${judged} documents it judges`
    : `holds ${held} of the ${judged} documents it judges (--allow-unknown-docs evaluates it anyway, scoring the others as misses)`;
}

function noCollectionJudged(golden: GoldenSet, skipped: readonly QualitySkip[]): ReembedError {
  const mine = skipped.filter((s) => s.golden === golden.name);
  return new ReembedError(
    'INVALID_INPUT',
    `Golden set "${golden.name}" judges documents no collection of the report holds in full ` +
      `(${mine.map((s) => `${s.collection}: ${s.reason}`).join('; ') || 'no collections'}). ` +
      'Ingest the corpus it judges, or give each collection its own set: --golden <collection>=<set>.',
    { details: { golden: golden.name, skipped: mine } },
  );
}

function namespaceRow(
  ns: Namespace,
  stats: { records: number } | undefined,
  sample: CoverageSample | undefined,
  roles: Map<string, 'old' | 'new'>,
): ReportNamespace {
  const live = sample?.live ?? 0;
  const current = sample?.current ?? 0;
  return Object.freeze({
    name: ns.name,
    collection: ns.collection,
    state: ns.state,
    space: ns.space.name,
    fingerprint: ns.space.fingerprint,
    dimension: ns.space.spec.dimension,
    records: stats?.records ?? 0,
    live,
    current,
    stale: sample?.stale ?? 0,
    coverage: live === 0 ? 1 : current / live,
    role: roles.get(ns.name) ?? null,
  });
}

/** Stored history plus the report-time samples (kept even when equal to the last stored one). */
async function coverageHistory(
  app: Reembed,
  collection: string | undefined,
  now: readonly CoverageSample[],
): Promise<CoverageSample[]> {
  const repository = app.backend.coverageSamples;
  const held = repository ? await repository.read(collection !== undefined ? { collection } : {}) : [];
  const names = new Set(now.map((s) => s.namespace));
  const byKey = new Map<string, CoverageSample>();
  for (const s of [...held, ...now]) if (names.has(s.namespace)) byKey.set(`${s.namespace}\u0000${s.at}`, s);
  return [...byKey.values()].sort(
    (a, b) => a.at.localeCompare(b.at) || a.namespace.localeCompare(b.namespace),
  );
}

/** The collection's current migration, else its newest, decides which namespace is old and which new. */
function migrationRoles(migrations: readonly ReportMigration[]): Map<string, 'old' | 'new'> {
  const roles = new Map<string, 'old' | 'new'>();
  const seen = new Set<string>();
  const active = migrations.filter((m) => !['retired', 'rolled-back'].includes(m.state));
  for (const m of [...active, ...migrations]) {
    if (seen.has(m.collection)) continue;
    seen.add(m.collection);
    roles.set(m.from, 'old');
    roles.set(m.to, 'new');
  }
  return roles;
}

async function listMigrations(app: Reembed, collection: string | undefined): Promise<ReportMigration[]> {
  const repository = app.backend.migrations;
  if (!repository) return [];
  const list = await repository.list(collection !== undefined ? { collection } : {});
  const out: ReportMigration[] = [];
  for (const m of list) out.push(await migrationRow(app, m));
  return out;
}

async function migrationRow(app: Reembed, m: Migration): Promise<ReportMigration> {
  const audit = await app.backend.catalog.listAudit({ subject: m.id });
  const timeline = [{ at: m.createdAt, state: 'planned' }];
  for (const e of audit) {
    if (e.action === 'migration.transition' && typeof e.details.to === 'string')
      timeline.push({ at: e.at, state: e.details.to });
  }
  timeline.sort((a, b) => a.at.localeCompare(b.at));
  let agreement: ReportMigration['agreement'] = null;
  if (m.strategy === 'shadow' && app.backend.migrations) {
    const s = await app.backend.migrations.agreementSummary(m.id);
    const overlap: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.overlap)) overlap[`overlap@${k}`] = v;
    agreement = { samples: s.samples, rbo: s.rbo, overlap };
  }
  const percent = m.info.rolloutPercent;
  return Object.freeze({
    id: m.id,
    collection: m.collection,
    alias: m.alias,
    from: m.from,
    to: m.to,
    strategy: m.strategy,
    state: m.state,
    createdAt: m.createdAt,
    completedAt: m.completedAt,
    timeline,
    rolloutPercent: typeof percent === 'number' ? percent : null,
    agreement,
  });
}

async function readTraffic(
  app: Reembed,
  collection: string | undefined,
  since: Date,
): Promise<{ rows: TrafficRow[]; latency: LatencyRow[]; minutes: TrafficMinute[] }> {
  const repository = app.backend.traffic;
  if (!repository) return { rows: [], latency: [], minutes: [] };
  const buckets = await repository.read(collection !== undefined ? { since, collection } : { since });
  const summary = summarizeTraffic(buckets);
  const stats = Object.values(summary.namespaces).sort((a, b) => a.namespace.localeCompare(b.namespace));
  const rows = stats.map((s) =>
    Object.freeze({
      namespace: s.namespace,
      collection: s.collection,
      queries: s.queries,
      shadowReads: s.shadowReads,
      share: s.share,
    }),
  );
  const latency: LatencyRow[] = [];
  for (const s of stats) {
    if (s.latency.p50 === null || s.latency.p99 === null) continue;
    latency.push(
      Object.freeze({
        namespace: s.namespace,
        p50: s.latency.p50,
        p99: s.latency.p99,
        samples: s.latency.samples,
        source: 'traffic' as const,
      }),
    );
  }
  const perMinute = new Map<string, TrafficMinute>();
  for (const b of buckets) {
    if (b.role !== 'served' && b.role !== 'fused') continue;
    const key = `${b.minute}\u0000${b.namespace}`;
    const held = perMinute.get(key);
    perMinute.set(key, {
      minute: new Date(b.minute * 60_000).toISOString(),
      namespace: b.namespace,
      queries: (held?.queries ?? 0) + b.queries,
    });
  }
  const minutes = [...perMinute.values()].sort(
    (a, b) => a.minute.localeCompare(b.minute) || a.namespace.localeCompare(b.namespace),
  );
  return { rows, latency, minutes };
}
