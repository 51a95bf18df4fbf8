/**
 * Regenerates the example report of docs/images (not a test: about four minutes of real time, because
 * traffic and coverage are charted per minute). SciFact, a hashing-256 space (v1) and an LSA-256 space
 * (v2), live queries recorded throughout, a progressive migration backfilled in steps with a coverage
 * sample after each, then held at a 50% traffic split; then `reembed report` with the golden set and the
 * quality benchmark's curves.
 *
 *   npx tsx test/report/example.ts [--dataset ../shared/datasets/scifact] [--out /tmp/reembed-example]
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import { fitLsaSpace } from '../../src/cli/lsa-model.js';
import { main } from '../../src/cli/main.js';
import { readCorpus } from '../../src/corpus/reader.js';
import { hashingSpace } from '../../src/embedders/hashing.js';
import { loadGoldenSet } from '../../src/eval/load-golden.js';
import { recordTraffic } from '../../src/monitor/wiring.js';
import { sampleCoverage } from '../../src/report/coverage.js';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: '../shared/datasets/scifact' },
    out: { type: 'string', default: '/tmp/reembed-example' },
  },
});
const data = resolve(values.dataset);
const dir = resolve(values.out);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const db = join(dir, 'reembed.db');
const app = await openReembed({ db, actor: 'report-example' });
const log = (s: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

await app.addSpace(hashingSpace('v1-hashing', { dimension: 256, sublinear: true }));
await app.createCollection('docs', 'v1-hashing');
const texts: string[] = [];
for await (const batch of readCorpus(join(data, 'corpus.jsonl'), { batchSize: 500 })) {
  await app.ingest('docs', batch.docs);
  for (const d of batch.docs) texts.push(d.text);
}
await sampleCoverage(app);
log(`ingested ${texts.length} documents`);
const queries = (await loadGoldenSet(data)).queries.map((q) => q.text);
const recording = recordTraffic(app, { flushIntervalMs: 2000 });
const migrations = new MigrationService(app, { flushMs: 1000 });

let next = 0;
async function traffic(seconds: number, perSecond = 6): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    await app.search('docs', { text: queries[next++ % queries.length] as string, k: 10 });
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
}

await traffic(50);
await app.addSpace(fitLsaSpace({ name: 'v2-lsa', dataDir: dir, texts, dimension: 256, seed: 42 }).space);
const started = await migrations.start({
  alias: 'docs',
  to: 'v2-lsa',
  strategy: 'progressive',
  options: { steps: [25, 50, 100], tenants: false, backfill: { batchSize: 100, requestsPerMinute: 90 } },
});
const id = started.migration.id;
await sampleCoverage(app, { unchangedIntervalMs: 0 });
log(`started ${id}`);
while ((await migrations.get(id)).state === 'backfilling') {
  await migrations.step(id, { maxBatches: 6 });
  await sampleCoverage(app, { unchangedIntervalMs: 0 });
  await traffic(6);
}
await migrations.step(id); // validating → rolling-out, traffic stays split 50%
log(`migration ${(await migrations.get(id)).state}`);
await traffic(55);
await recording?.stop();
await migrations.close();
await app.close();

const code = await main([
  '--db',
  db,
  'report',
  '--collection',
  'docs',
  '--golden',
  data,
  '--curves',
  resolve('bench/results/quality.json'),
  '--out',
  join(dir, 'report.html'),
  '--png',
  join(dir, 'png'),
]);
mkdirSync('docs/images', { recursive: true });
for (const chart of ['quality', 'quality-curves', 'coverage', 'versions', 'latency', 'traffic'])
  copyFileSync(join(dir, 'png', `${chart}.png`), join('docs/images', `report-${chart}.png`));
log(`report exit ${code}; PNGs copied to docs/images`);
