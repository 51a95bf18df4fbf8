/**
 * Issue 15: the HTTP layer of `reembed serve` on the embedded store.
 * (1) Overhead: the same text searches through `app.search` (library) and through POST
 *     /v1/aliases/bench/search on 127.0.0.1 (fetch from the same process: HTTP client, auth, validation,
 *     JSON both ways), alternated query by query in one run
 *     (a fresh seeded order per query, so no way always follows the same neighbour); medians and the median paired difference —
 *     once with `fetch` as the client and once with node:http and a keep-alive agent (a lean client: the
 *     difference between the two is the client's own cost, paid on this same event loop).
 *     Goal: under 1 ms at the median.
 *     Also measured in the same rounds: a bare node:http server doing only JSON in, `app.search`, JSON out
 *     (the floor any HTTP layer pays here: sockets, HTTP parsing, the client on the same event loop), and
 *     with `--baseline=DIR` the server of another checkout (e.g. a copy of main's `src`, `assets` and a
 *     `node_modules` link) on the same app, so old and new code are compared side by side. Each way's
 *     CPU time per query (this process: client, server and library) is reported beside its wall time.
 * (2) Throughput and p50/p99 of text search at concurrency 1, 8 and 32, from a separate client process.
 * Run: npx tsx bench/serve.ts [--n=100000 --queries=300 --seconds=10 --baseline=DIR]
 */
import { execFile, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createApiKey } from '../src/app/api-keys.js';
import { openReembed } from '../src/app/open.js';
import { defineSpace } from '../src/core/space.js';
import { startServer } from '../src/server/serve.js';
import { leanSearch } from './lean-client.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { buildWorkload, mulberry32 } from './workload.js';

const loadBefore = loadavg();
const args = benchArgs({ n: 100_000, queries: 300, dimension: 384, seconds: 10, baseline: '' });
const n = Number(args.n);
const dir = mkdtempSync(join(tmpdir(), 'reembed-bench-serve-'));
const app = await openReembed({ db: join(dir, 'bench.db'), actor: 'bench' });
const space = defineSpace('hashing-384', {
  provider: 'hashing',
  model: 'fnv1a',
  dimension: Number(args.dimension),
  params: { seed: 1 },
});
await app.addSpace(space);
await app.createCollection('bench', space.name);
const workload = buildWorkload(n);
for (let i = 0; i < n; i += 5_000) await app.ingest('bench', workload.docs.slice(i, i + 5_000));
// Ready the namespace for serving as an operator would before taking traffic: at or above the ANN threshold
// the HNSW index is built now, not in the background while the figures are taken.
const served = (await app.backend.catalog.getAlias('bench')).routing;
const namespace = served.kind === 'single' ? served.namespace : '';
await app.backend.store.buildIndex?.(namespace);
const index = await app.backend.store.describeIndex?.(namespace);
const queries = workload.docs
  .slice(0, Number(args.queries))
  .map((d) => d.text.split(' ').slice(0, 8).join(' '));

const server = await startServer(app, { port: 0, rateLimit: { perSecond: 0 }, monitorIntervalMs: 0 });
const { secret } = await createApiKey(app.backend, { name: 'bench', scope: 'query' }, 'bench');
const viaHttp = async (text: string): Promise<void> => {
  const res = await fetch(`${server.url}/v1/aliases/bench/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text, k: 10 }),
  });
  if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
  await res.json();
};
/**
 * The same request through node:http with a keep-alive agent: a lean client, so the figure is what the
 * server adds rather than what `fetch` (undici, on this same event loop) costs the caller.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const searchUrl = new URL(`${server.url}/v1/aliases/bench/search`);

/** The floor: node:http with JSON both ways around `app.search`, and nothing else (no auth, no validation). */
const floor = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string; k: number };
    app.search('bench', body).then(
      (answer) => {
        const out = JSON.stringify(answer);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      },
      (error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      },
    );
  });
});
await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
const floorUrl = new URL(`http://127.0.0.1:${(floor.address() as AddressInfo).port}/`);

/** The server of another checkout, on the same app (`--baseline=DIR`). */
let baseline: { url: URL; close(): Promise<void> } | null = null;
if (args.baseline) {
  const dirOf = String(args.baseline);
  const mod = (await import(join(dirOf, 'src', 'server', 'serve.ts'))) as { startServer: typeof startServer };
  const other = await mod.startServer(app, { port: 0, rateLimit: { perSecond: 0 }, monitorIntervalMs: 0 });
  baseline = { url: new URL(`${other.url}/v1/aliases/bench/search`), close: () => other.close() };
}

const viaLeanHttp = (text: string, url: URL = searchUrl): Promise<void> =>
  leanSearch(agent, url, text, secret);
// Warm every path (matrix cache, key cache, JIT).
for (const text of queries.slice(0, 20)) {
  await app.search('bench', { text, k: 10 });
  await viaHttp(text);
  await viaLeanHttp(text);
  await viaLeanHttp(text, floorUrl);
  if (baseline) await viaLeanHttp(text, baseline.url);
}
/**
 * The same lean client in a separate process (`serve-paired-client.ts`), as a service calling reembed
 * would be: its own event loop and caches, so the figure is the server's side plus the loopback hop.
 */
const paired = fork(fileURLToPath(new URL('./serve-paired-client.ts', import.meta.url)), {
  execArgv: ['--import', 'tsx'],
});
await new Promise((resolve) => paired.once('message', resolve));
const viaOtherProcess = (text: string, url: URL, key: string | null): Promise<number> =>
  new Promise((resolve, reject) => {
    paired.once('message', (m: { ms?: number; error?: string }) =>
      m.error === undefined ? resolve(m.ms as number) : reject(new Error(m.error)),
    );
    paired.send({ url: url.href, text, key });
  });
for (const text of queries.slice(0, 20)) {
  await viaOtherProcess(text, searchUrl, secret);
  await viaOtherProcess(text, floorUrl, secret);
}
const ways = ['lib', 'fetch', 'lean', 'floor', 'process', 'processFloor', ...(baseline ? ['baseline'] : [])];
const took: Record<string, number[]> = Object.fromEntries(ways.map((w) => [w, []]));
/**
 * CPU time of this process per call (client, server and library share it): far less disturbed than wall
 * time when other processes share the cores, so the CPU the HTTP layer adds is still readable then.
 */
const cpu: Record<string, number[]> = Object.fromEntries(ways.map((w) => [w, []]));
const diff: Record<string, number[]> = Object.fromEntries(ways.map((w) => [w, []]));
/** New server minus baseline server, per query. */
const versusBaseline: number[] = [];
const order = mulberry32(15);
for (const text of queries) {
  const once: Record<string, number> = {};
  const onceCpu: Record<string, number> = {};
  // A fresh (seeded) order every query, so each way runs after each other way equally often. A rotation
  // kept the neighbours fixed (the lean client always ran right after fetch, the baseline right after the
  // floor), which cost the lean client about 0.25 ms of CPU against an identical baseline server.
  for (const which of shuffled(ways, order)) {
    if (which === 'process' || which === 'processFloor') {
      // Timed in the client process; this process's CPU is the server's side only.
      const c0 = process.cpuUsage();
      once[which] = await viaOtherProcess(text, which === 'process' ? searchUrl : floorUrl, secret);
      const used = process.cpuUsage(c0);
      onceCpu[which] = (used.user + used.system) / 1000;
      continue;
    }
    const c0 = process.cpuUsage();
    const t = performance.now();
    if (which === 'lib') await app.search('bench', { text, k: 10 });
    else if (which === 'fetch') await viaHttp(text);
    else if (which === 'lean') await viaLeanHttp(text);
    else if (which === 'floor') await viaLeanHttp(text, floorUrl);
    else if (baseline) await viaLeanHttp(text, baseline.url);
    once[which] = performance.now() - t;
    const used = process.cpuUsage(c0);
    onceCpu[which] = (used.user + used.system) / 1000;
  }
  for (const w of ways) cpu[w]?.push((onceCpu[w] as number) - (onceCpu.lib as number));
  for (const w of ways) {
    took[w]?.push(once[w] as number);
    diff[w]?.push((once[w] as number) - (once.lib as number));
  }
  if (baseline) versusBaseline.push((once.lean as number) - (once.baseline as number));
}
/** `items` in a random order (Fisher–Yates with `rng`). */
function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const libraryMs = took.lib as number[];
const httpMs = took.fetch as number[];
const leanMs = took.lean as number[];
const diffMs = diff.fetch as number[];
const leanDiffMs = diff.lean as number[];
agent.destroy();
paired.send('exit');

const client = fileURLToPath(new URL('./serve-client.mjs', import.meta.url));
const load: Record<string, unknown> = {};
for (const concurrency of [1, 8, 32]) {
  // Asynchronous: the server answers from this process's event loop while the client runs.
  const run = await promisify(execFile)(
    process.execPath,
    [client, server.url, secret, String(concurrency), String(args.seconds), JSON.stringify(queries)],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(run.stdout) as {
    requests: number;
    failures: number;
    rps: number;
    p50: number;
    p99: number;
  };
  load[`c${concurrency}`] = {
    requests: r.requests,
    failures: r.failures,
    rps: fmt(r.rps, 0),
    p50_ms: fmt(r.p50, 2),
    p99_ms: fmt(r.p99, 2),
  };
}

await server.close();
await baseline?.close();
floor.close();
await app.close();
rmSync(dir, { recursive: true, force: true });
report('serve', {
  documents: n,
  index: index?.mode ?? null,
  dimension: Number(args.dimension),
  queries: queries.length,
  library_ms: { median: fmt(median(libraryMs), 2), p99: fmt(percentile(libraryMs, 99), 2) },
  http_ms: { median: fmt(median(httpMs), 2), p99: fmt(percentile(httpMs, 99), 2) },
  http_overhead_ms: { median_of_paired_differences: fmt(median(diffMs), 2) },
  http_lean_client_ms: { median: fmt(median(leanMs), 2), p99: fmt(percentile(leanMs, 99), 2) },
  http_lean_client_overhead_ms: { median_of_paired_differences: fmt(median(leanDiffMs), 2) },
  floor_node_http_ms: {
    median: fmt(median(took.floor as number[]), 2),
    overhead_median_of_paired_differences: fmt(median(diff.floor as number[]), 2),
  },
  separate_process_client_ms: {
    median: fmt(median(took.process as number[]), 2),
    overhead_median_of_paired_differences: fmt(median(diff.process as number[]), 2),
    floor_median: fmt(median(took.processFloor as number[]), 2),
    floor_overhead_median_of_paired_differences: fmt(median(diff.processFloor as number[]), 2),
    server_cpu_overhead_median: fmt(median(cpu.process as number[]), 3),
    floor_server_cpu_overhead_median: fmt(median(cpu.processFloor as number[]), 3),
  },
  ...(baseline
    ? {
        baseline: {
          dir: String(args.baseline),
          median: fmt(median(took.baseline as number[]), 2),
          overhead_median_of_paired_differences: fmt(median(diff.baseline as number[]), 2),
          new_minus_baseline_median_ms: fmt(median(versusBaseline), 2),
        },
      }
    : {}),
  cpu_overhead_ms_median_of_paired_differences: {
    lean_client: fmt(median(cpu.lean as number[]), 3),
    fetch_client: fmt(median(cpu.fetch as number[]), 3),
    floor_node_http: fmt(median(cpu.floor as number[]), 3),
    ...(baseline ? { baseline: fmt(median(cpu.baseline as number[]), 3) } : {}),
  },
  load_average_before: loadBefore.map((x) => fmt(x, 2)),
  load_average_after: loadavg().map((x) => fmt(x, 2)),
  goal_overhead_median_ms: 1,
  load,
});
