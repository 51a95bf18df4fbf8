/**
 * Issue 2: ingest + embed with the hashing embedder (384-d) into the embedded store, end to end through
 * the library (validation, content hashes, sources, chunking, embedding, versioned vector writes).
 * Goal: >= 20,000 documents/s on this 2-core machine. Run: npx tsx bench/ingest.ts [--n=20000 --runs=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReembed } from '../src/app/open.js';
import { defineSpace } from '../src/core/space.js';
import { benchArgs, fmt, median, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 20_000, runs: 5, batch: 5_000, dimension: 384 });
const n = Number(args.n);
const workload = buildWorkload(n);
const rates: number[] = [];

for (let run = 0; run < Number(args.runs); run++) {
  const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-'));
  const app = await openReembed({ db: join(dir, 'bench.db'), actor: 'bench' });
  await app.addSpace(
    defineSpace('hashing-384', {
      provider: 'hashing',
      model: 'fnv1a',
      dimension: Number(args.dimension),
      params: { seed: 1 },
    }),
  );
  await app.createCollection('bench', 'hashing-384');
  const started = performance.now();
  for (let i = 0; i < n; i += Number(args.batch)) {
    await app.ingest('bench', workload.docs.slice(i, i + Number(args.batch)));
  }
  const seconds = (performance.now() - started) / 1000;
  rates.push(n / seconds);
  console.error(`run ${run + 1}: ${fmt(n / seconds, 0)} docs/s`);
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}

report('ingest', {
  docs: n,
  dimension: Number(args.dimension),
  batch: Number(args.batch),
  runs: rates.map((r) => Math.round(r)),
  median_docs_per_s: Math.round(median(rates)),
  goal_docs_per_s: 20_000,
});
