import type { Reembed } from '../app/reembed.js';
import { measureCoverage } from '../app/status.js';
import type { CoverageSample, CoverageSampleRepository } from '../ports/coverage-samples.js';

export interface SampleCoverageOptions {
  /** Only this collection's namespaces (default: every collection). */
  readonly collection?: string;
  /** Only these namespaces (e.g. a backfill's target). */
  readonly namespaces?: readonly string[];
  /**
   * A sample equal to the namespace's newest stored one is not stored again unless that one is older than
   * this (default one hour), so a monitor in cron every minute keeps the table small while a backfill's
   * progress is kept point by point.
   */
  readonly unchangedIntervalMs?: number;
  /** Where samples go (default: the backend's; null measures without storing). */
  readonly repository?: CoverageSampleRepository | null;
  /** Time of the samples (default: the backend's clock). */
  readonly now?: Date;
}

export interface CoverageSampling {
  /** One sample per measured namespace, whether stored or not. */
  readonly samples: readonly CoverageSample[];
  /** How many were stored (the others equalled a recent sample). */
  readonly recorded: number;
  /** False when the backend keeps no coverage history. */
  readonly stored: boolean;
}

const HOUR_MS = 3_600_000;

/**
 * Measures the coverage of every live (not retired) namespace against the source and records one sample
 * each: the history behind the report's coverage-over-time chart. Reads the source in bounded memory
 * (`measureCoverage`); writes only the samples table.
 *
 * @example
 * await sampleCoverage(app, { collection: 'docs' });                // e.g. from cron next to `reembed monitor`
 * runner.on('batch', () => void sampleCoverage(app, { namespaces: ['docs@v2'] }));
 */
export async function sampleCoverage(
  app: Reembed,
  options: SampleCoverageOptions = {},
): Promise<CoverageSampling> {
  const { catalog } = app.backend;
  if (options.collection !== undefined) await catalog.getCollection(options.collection);
  const wanted = options.namespaces ? new Set(options.namespaces) : null;
  const namespaces = (await catalog.listNamespaces(options.collection)).filter(
    (ns) => ns.state !== 'retired' && (wanted === null || wanted.has(ns.name)),
  );
  const now = options.now ?? app.backend.clock?.now() ?? new Date();
  const at = now.toISOString();
  const samples: CoverageSample[] = [];
  for (const ns of namespaces) {
    const c = await measureCoverage(app.backend, ns);
    samples.push(
      Object.freeze({
        namespace: ns.name,
        collection: ns.collection,
        at,
        live: c.live,
        current: c.current,
        stale: c.stale,
      }),
    );
  }
  const repository =
    options.repository === undefined ? (app.backend.coverageSamples ?? null) : options.repository;
  if (!repository) return Object.freeze({ samples: Object.freeze(samples), recorded: 0, stored: false });
  const interval = options.unchangedIntervalMs ?? HOUR_MS;
  const latest = await repository.latest(options.collection);
  const fresh = samples.filter((s) => {
    const last = latest.get(s.namespace);
    if (!last) return true;
    const same = last.live === s.live && last.current === s.current && last.stale === s.stale;
    return !same || now.getTime() - Date.parse(last.at) >= interval;
  });
  await repository.record(fresh);
  return Object.freeze({ samples: Object.freeze(samples), recorded: fresh.length, stored: true });
}
