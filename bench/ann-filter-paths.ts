/**
 * Filtered search in the embedded store, this checkout against another (`--baseline=DIR`, e.g. a worktree
 * of main), side by side in one process on one SQLite file: `n` real-structure passages (bench/real-vectors.ts,
 * tenant `t<i % 100>`, metadata `b` = i % 10 and `h` = i % 2), the HNSW index built once and loaded by both
 * connections, the namespace's float32 copy put in memory by exact searches first (as a store serving
 * filtered searches has it), then for each filter (1%, 10%, 50% of the records pass) `rounds` rounds of
 * every query through each connection, alternating which goes first. Reports p50 per round and connection,
 * the per-round ratio baseline ÷ this checkout, recall@10 against the exact filtered answer, and the
 * exact filtered search in the same rounds (the path a selective filter should take).
 *
 * Run: npx tsx bench/ann-filter-paths.ts [--n=100000 --queries=50 --rounds=5 --baseline=../main
 *      --filters=1%,10%,50%]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SearchFilter } from '../src/core/records.js';
import { defineSpace } from '../src/core/space.js';
import { openSqliteBackend } from '../src/stores/sqlite/backend.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { DATASETS_DIR, haveDatasets, passageWrites, realVectorSource } from './real-vectors.js';

const args = benchArgs({
  n: 100_000,
  queries: 50,
  rounds: 5,
  baseline: '',
  dimension: 384,
  chunk: 10_000,
  filters: '1%,10%,50%',
});
if (!haveDatasets()) {
  console.error(
    `bench/ann-filter-paths: skipped, the datasets are not at ${DATASETS_DIR} (set REEMBED_DATASETS)`,
  );
  process.exit(0);
}
const n = Number(args.n);
const k = 10;
const rounds = Number(args.rounds);
const source = realVectorSource({ dimension: Number(args.dimension) });
const d = source.dimension;
const space = defineSpace(`lsa-${d}`, { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = `bench@${space.name}`;
const dir = mkdtempSync(join(tmpdir(), 'reembed-ann-filter-'));
const path = join(dir, 'ann.db');
const ann = { threshold: 0 };

type Open = typeof openSqliteBackend;
const variants: { name: string; open: Open }[] = [{ name: 'this checkout', open: openSqliteBackend }];
if (args.baseline) {
  const base = resolve(String(args.baseline));
  const mod = (await import(join(base, 'src', 'stores', 'sqlite', 'backend.ts'))) as {
    openSqliteBackend: Open;
  };
  variants.push({ name: `baseline (${base})`, open: mod.openSqliteBackend });
}

const writer = await openSqliteBackend({ path, ann });
try {
  await writer.store.createNamespace({
    name: ns,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: d,
    metric: 'cosine',
  });
  const chunk = Math.min(Number(args.chunk), n);
  const vectors = new Float32Array(chunk * d);
  const texts: string[] = [];
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    source.fill(vectors, start, count, texts);
    const writes = passageWrites(vectors, texts, start, count, d);
    await writer.store.write(ns, space.fingerprint, writes);
  }
  const t = performance.now();
  await writer.store.buildIndex(ns);
  console.error(
    `bench/ann-filter-paths: ${n} written, index built in ${fmt((performance.now() - t) / 1000)} s`,
  );
} finally {
  await writer.close();
}

const backends = [];
for (const v of variants) {
  const backend = await v.open({ path, ann });
  await backend.store.buildIndex(ns); // loads the saved file
  backends.push({ ...v, backend });
}
const queries = Math.min(source.queryCount, Number(args.queries));
const queryVector = (q: number) => source.queries.slice(q * d, (q + 1) * d);
const allFilters: Record<string, SearchFilter> = {
  '1%': { tenant: 't0' },
  '10%': { metadata: { b: 0 } },
  '50%': { metadata: { h: 0 } },
};
const filters = Object.fromEntries(
  String(args.filters)
    .split(',')
    .map((share) => [share, allFilters[share] as SearchFilter]),
);
const results: Record<string, unknown> = {};
try {
  for (const [share, filter] of Object.entries(filters)) {
    // Exact answers through every connection: puts each one's float32 copy in memory.
    const bars: number[] = [];
    for (const b of backends) {
      for (let q = 0; q < queries; q++) {
        const hits = await b.backend.store.search(ns, {
          vector: queryVector(q),
          fingerprint: space.fingerprint,
          k,
          filter,
          exact: true,
        });
        bars[q] = (hits[hits.length - 1]?.score ?? Number.NEGATIVE_INFINITY) - 1e-5;
      }
    }
    const p50 = new Map<string, number[]>(backends.map((b) => [b.name, []]));
    const recall = new Map<string, number>();
    const exactP50: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 === 0 ? backends : [...backends].reverse();
      for (const b of order) {
        const ms: number[] = [];
        let found = 0;
        for (let q = 0; q < queries; q++) {
          const start = performance.now();
          const hits = await b.backend.store.search(ns, {
            vector: queryVector(q),
            fingerprint: space.fingerprint,
            k,
            filter,
          });
          ms.push(performance.now() - start);
          found += Math.min(k, hits.filter((h) => h.score >= (bars[q] as number)).length);
        }
        if (round === 0) continue; // warm-up
        p50.get(b.name)?.push(percentile(ms, 50));
        recall.set(b.name, found / (queries * k));
      }
      const ms: number[] = [];
      for (let q = 0; q < queries; q++) {
        const start = performance.now();
        await backends[0]?.backend.store.search(ns, {
          vector: queryVector(q),
          fingerprint: space.fingerprint,
          k,
          filter,
          exact: true,
        });
        ms.push(performance.now() - start);
      }
      if (round > 0) exactP50.push(percentile(ms, 50));
    }
    const current = p50.get(backends[0]?.name ?? '') ?? [];
    const baseline = backends[1] ? (p50.get(backends[1].name) ?? []) : [];
    results[share] = {
      filter,
      variants: Object.fromEntries(
        backends.map((b) => [
          b.name,
          {
            p50Ms: median(p50.get(b.name) ?? []),
            roundsP50: p50.get(b.name),
            recallAt10: recall.get(b.name),
          },
        ]),
      ),
      exactP50Ms: median(exactP50),
      exactRoundsP50: exactP50,
      ...(baseline.length ? { baselineOverCurrent: current.map((c, i) => (baseline[i] as number) / c) } : {}),
    };
    console.error(
      `bench/ann-filter-paths: ${share}: ${backends.map((b) => `${b.name} p50 ${fmt(median(p50.get(b.name) ?? []), 2)} ms recall ${fmt(recall.get(b.name) ?? Number.NaN, 3)}`).join('; ')}; exact ${fmt(median(exactP50), 2)} ms`,
    );
  }
} finally {
  for (const b of backends) await b.backend.close();
  rmSync(dir, { recursive: true, force: true });
}
report('ann-filter-paths', {
  n,
  dimension: d,
  queries,
  rounds,
  vectors: source.description,
  variants: backends.map((b) => b.name),
  filters: results,
});
