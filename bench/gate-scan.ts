/**
 * The exact searches of a cutover's probe gates (issue 16, "make the default cutover gates cheap"): one
 * `searchMany` of `queries` exact known-item searches (k 10) on a SQLite namespace of `n` × `d` vectors,
 * timed side by side with another checkout (`--baseline`, e.g. main's) in alternating rounds, in two modes:
 *
 * - streamed: the namespace above the exact cache budget (`exactCacheBytes` 0 here, as any namespace
 *   past 256 MiB is by default: 170k × 384 floats): this branch reads it once per batch, the baseline once
 *   per query — timed on `baselineQueries` of them and scaled to `queries` (it is linear in them);
 * - cached: the in-memory float32 copy (`exactCacheBytes` Infinity), its load timed apart (the first call)
 *   from the search (the second call).
 *
 * Vectors have structure (clusters around 256 centroids); queries are stored vectors with noise, as
 * known-item probes are. The database is built once per (n, d) under /tmp and reused.
 *
 * Run: npx tsx bench/gate-scan.ts --baseline=/path/to/main [--n=200000 --d=384 --queries=300 --runs=3
 *      --modes=streamed,cached --baselineQueries=10]
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '../src/core/random.js';
import type { SearchRequest, VectorStore } from '../src/ports/vector-store.js';
import { benchArgs, fmt, median, report } from './lib.js';

const args = benchArgs({
  n: 200_000,
  d: 384,
  queries: 300,
  runs: 3,
  modes: 'streamed,cached',
  baseline: '',
  baselineQueries: 10,
});
const n = Number(args.n);
const d = Number(args.d);
const Q = Number(args.queries);
const baselineQueries = Math.min(Q, Number(args.baselineQueries));
const checkouts: Record<string, string> = { branch: resolve('.') };
if (String(args.baseline)) checkouts.baseline = resolve(String(args.baseline));
const path = `/tmp/reembed-gate-scan-${n}x${d}.db`;
const space = { name: `gate-bench-${d}`, fingerprint: `gate-bench-fingerprint-${d}` };
const namespace = 'docs@gate';

type Opener = (o: { path: string; ann: Record<string, number> }) => Promise<{
  store: VectorStore;
  close(): Promise<void>;
}>;
async function opener(checkout: string): Promise<Opener> {
  const module = await import(pathToFileURL(join(checkout, 'src/stores/sqlite/backend.ts')).href);
  return module.openSqliteBackend as Opener;
}

const random = seededRandom(16);
const gaussian = (): number => {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
};
const centroids = Array.from({ length: 256 }, () => Float32Array.from({ length: d }, gaussian));
const vectorOf = (i: number): Float32Array => {
  const c = centroids[i % centroids.length] as Float32Array;
  return Float32Array.from(c, (x) => x + 0.6 * gaussian());
};

if (!existsSync(path)) {
  const t = performance.now();
  const backend = await (await opener(checkouts.branch as string))({ path, ann: { threshold: Infinity } });
  await backend.store.createNamespace({
    name: namespace,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: d,
    metric: 'cosine',
  });
  for (let start = 0; start < n; start += 2_000) {
    const sources = Array.from({ length: Math.min(2_000, n - start) }, (_, j) => {
      const i = start + j;
      return {
        sourceId: `doc-${i}`,
        sourceVersion: 1,
        contentHash: `h${i}`,
        tenant: null,
        metadata: {},
        chunks: [{ chunkId: `doc-${i}#0`, index: 0, text: `doc ${i}`, vector: vectorOf(i) }],
      };
    });
    await backend.store.write(namespace, space.fingerprint, sources);
  }
  await backend.close();
  console.error(`built ${path} in ${fmt((performance.now() - t) / 1000)} s`);
}

const requests: SearchRequest[] = Array.from({ length: Q }, (_, _i) => {
  const v = vectorOf(Math.floor(random() * n));
  return { vector: v.map((x) => x + 0.1 * gaussian()), fingerprint: space.fingerprint, k: 10, exact: true };
});

const rows: Record<string, unknown>[] = [];
for (const mode of String(args.modes).split(',')) {
  const times: Record<string, { load: number[]; search: number[] }> = {};
  for (let run = 0; run < Number(args.runs); run++) {
    for (const [name, checkout] of Object.entries(checkouts)) {
      const open = await opener(checkout);
      const backend = await open({
        path,
        ann: { threshold: Infinity, exactCacheBytes: mode === 'streamed' ? 0 : Infinity },
      });
      const slot = times[name] ?? { load: [], search: [] };
      times[name] = slot;
      if (mode === 'streamed') {
        const count = name === 'branch' ? Q : baselineQueries;
        const t = performance.now();
        await backend.store.searchMany?.(namespace, requests.slice(0, count));
        slot.search.push(((performance.now() - t) * Q) / count);
      } else {
        let t = performance.now();
        await backend.store.searchMany?.(namespace, requests.slice(0, 1));
        slot.load.push(performance.now() - t);
        t = performance.now();
        await backend.store.searchMany?.(namespace, requests);
        slot.search.push(performance.now() - t);
      }
      await backend.close();
      console.error(
        `${mode} ${name} run ${run}: ${fmt(slot.search.at(-1) as number, 0)} ms (load ${loadavg()[0]?.toFixed(2)})`,
      );
    }
  }
  for (const [name, t] of Object.entries(times)) {
    rows.push({
      mode,
      variant: name,
      queries: Q,
      measuredQueries: mode === 'streamed' && name !== 'branch' ? baselineQueries : Q,
      searchMsMedian: median(t.search),
      searchMs: t.search,
      loadMsMedian: t.load.length > 0 ? median(t.load) : null,
    });
  }
}
report(`gate-scan-${n}x${d}`, { n, d, queries: Q, loadAverage: loadavg(), rows });
