import { MigrationService } from '../../src/app/migrate.js';
import type { Reembed } from '../../src/app/reembed.js';
import { type GoldenSet, GoldenSetBuilder } from '../../src/core/golden.js';
import { recordTraffic } from '../../src/monitor/wiring.js';
import { corpus, hashing, tempApp } from '../migration/helpers.js';

export { insertRawRecord, runCli } from '../monitor/helpers.js';

/** PNG signature bytes. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Judged queries whose text is a document's own text: each query's relevant document is that one. */
export function selfGolden(docs: readonly { id: string; text: string }[], n: number): GoldenSet {
  const b = new GoldenSetBuilder('self');
  for (const d of docs.slice(0, n)) {
    b.addQuery(`q-${d.id}`, d.text);
    b.addJudgment(`q-${d.id}`, d.id, 1);
  }
  return b.build();
}

export interface MigratingSetup {
  readonly app: Reembed;
  readonly db: string;
  readonly dir: string;
  readonly docs: ReturnType<typeof corpus>;
  readonly migrationId: string;
  cleanup(): Promise<void>;
}

/**
 * A collection served by `v1` with a progressive migration to `v2` half backfilled (alias split), some
 * recorded traffic, and coverage samples before and during the backfill.
 */
export async function migratingSetup(): Promise<MigratingSetup> {
  const t = await tempApp();
  const { app } = t;
  const docs = corpus(200, 7);
  await app.addSpace(hashing('v1', 1));
  await app.addSpace(hashing('v2', 2));
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', docs);
  const { sampleCoverage } = await import('../../src/report/coverage.js');
  await sampleCoverage(app, { now: new Date(Date.now() - 120_000) });
  const recording = recordTraffic(app);
  const service = new MigrationService(app, { flushMs: 0 });
  const started = await service.start({
    alias: 'docs',
    to: 'v2',
    strategy: 'progressive',
    options: { steps: [25, 50, 100], tenants: false, backfill: { batchSize: 20 } },
  });
  const id = started.migration.id;
  // 120 of 200: 60% covered; the rollout moves one step per migrate step, to 25% (50% would need a second step)
  await service.step(id, { maxBatches: 6 });
  await sampleCoverage(app, { now: new Date(Date.now() - 60_000) });
  for (const d of docs.slice(0, 30)) await app.search('docs', { text: d.text, k: 5 });
  await recording?.stop();
  await service.close();
  return { app, db: t.db, dir: t.dir, docs, migrationId: id, cleanup: t.cleanup };
}
