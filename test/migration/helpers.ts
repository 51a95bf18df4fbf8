import type { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { MigrationReport } from '../../src/core/migration.js';
import type { SourceDocument } from '../../src/core/records.js';
import type { Embedder } from '../../src/ports/embedder.js';

export { hashing, tempApp } from '../app/helpers.js';

const WORDS = (
  'vector space model embedding index shard replica query latency recall precision cutover rollback ' +
  'backfill tombstone tenant alias namespace fusion rank score cosine metric chunk token budget batch ' +
  'checkpoint resume crash retry jitter backoff quota provider upgrade migration shadow canary traffic'
).split(' ');

/** Deterministic pseudo-random corpus: `n` documents over a small vocabulary, spread over 3 tenants. */
export function corpus(n: number, seed = 1, prefix = 'doc'): { id: string; text: string; tenant: string }[] {
  let state = seed >>> 0 || 1;
  const rand = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from(
      { length: 8 + Math.floor(rand() * 12) },
      () => WORDS[Math.floor(rand() * WORDS.length)],
    );
    return {
      id: `${prefix}-${String(i).padStart(5, '0')}`,
      text: `${words.join(' ')} unique${i}`,
      tenant: `t${i % 3}`,
    };
  });
}

/** Every step of a report, as `name:status`, for readable assertions. */
export function stepsOf(report: MigrationReport): string[] {
  return report.steps.map((s) => `${s.name}:${s.status}`);
}

/** Live source documents of a collection, by id. */
export async function liveSources(app: Reembed, collection: string): Promise<Map<string, SourceDocument>> {
  const out = new Map<string, SourceDocument>();
  let afterId: string | undefined;
  for (;;) {
    const page = await app.backend.sources.scan(collection, { afterId, limit: 500, includeDeleted: true });
    if (page.length === 0) return out;
    for (const d of page) out.set(d.id, d);
    afterId = page[page.length - 1]?.id;
  }
}

/**
 * "Each active namespace equals what the source says": every live document is held at exactly its
 * newest version, no deleted document has records, one fingerprint, one record per (unchunked) source.
 */
export async function assertNamespaceMatchesSource(app: Reembed, namespace: string): Promise<string[]> {
  const problems: string[] = [];
  const ns = await app.backend.catalog.getNamespace(namespace);
  const sources = await liveSources(app, ns.collection);
  const heads = await app.backend.store.heads(namespace, [...sources.keys()]);
  let live = 0;
  for (const [id, doc] of sources) {
    const head = heads.get(id);
    if (doc.deleted) {
      if (head && !head.deleted)
        problems.push(`${namespace}: deleted ${id} still has records (v${head.sourceVersion})`);
      continue;
    }
    live++;
    if (!head || head.deleted) problems.push(`${namespace}: live ${id} v${doc.version} missing`);
    else if (head.sourceVersion !== doc.version)
      problems.push(`${namespace}: ${id} at v${head.sourceVersion}, source v${doc.version}`);
    else if (head.contentHash !== doc.contentHash) problems.push(`${namespace}: ${id} content hash differs`);
  }
  const stats = await app.backend.store.stats(namespace);
  if (stats.sources !== live)
    problems.push(`${namespace}: ${stats.sources} live sources, source has ${live}`);
  if (stats.records !== live)
    problems.push(`${namespace}: ${stats.records} records for ${live} live sources`);
  const prints = Object.keys(stats.fingerprints);
  if (live > 0 && (prints.length !== 1 || prints[0] !== ns.space.fingerprint)) {
    problems.push(`${namespace}: fingerprints ${prints.join(',')} (expected ${ns.space.fingerprint})`);
  }
  return problems;
}

/** Runs `step` until the migration reaches one of `states` (bounded, so a stuck migration fails the test). */
export async function stepUntil(
  service: MigrationService,
  id: string,
  states: readonly string[],
  max = 10,
): Promise<MigrationReport[]> {
  const reports: MigrationReport[] = [];
  for (let i = 0; i < max; i++) {
    const m = await service.get(id);
    if (states.includes(m.state)) return reports;
    reports.push(await service.step(id));
  }
  throw new Error(
    `migration ${id} did not reach ${states.join('|')}: ${JSON.stringify(reports.map(stepsOf))}`,
  );
}

/** A clock tests move by hand; `sleep` advances it instead of waiting. */
export class TestClock {
  ms: number;
  constructor(start = Date.parse('2025-01-01T00:00:00Z')) {
    this.ms = start;
  }
  now(): Date {
    return new Date(this.ms);
  }
  async sleep(ms: number): Promise<void> {
    this.ms += ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** `base`, after a deterministic pseudo-random delay of up to `maxMs` per call: concurrent batches finish out of order. */
export function jittered(base: Embedder, maxMs: number, seed = 99): Embedder {
  let s = seed;
  return {
    ...base,
    embed: async (texts, options) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      await new Promise((r) => setTimeout(r, (s / 2 ** 32) * maxMs));
      return base.embed(texts, options);
    },
  };
}
