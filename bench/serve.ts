/**
 * Issue 15: the HTTP layer of `reembed serve` on the embedded store.
 * (1) Overhead: the same text searches through `app.search` (library) and through POST
 *     /v1/aliases/bench/search on 127.0.0.1 (fetch from the same process: HTTP client, auth, validation,
 *     JSON both ways), alternated query by query in one run; medians and the median paired difference —
 *     once with `fetch` as the client and once with node:http and a keep-alive agent (a lean client: the
 *     difference between the two is the client's own cost, paid on this same event loop).
 *     Goal: under 1 ms at the median.
 * (2) Throughput and p50/p99 of text search at concurrency 1, 8 and 32, from a separate client process.
 * Run: npx tsx bench/serve.ts [--n=100000 --queries=300 --seconds=10]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createApiKey } from '../src/app/api-keys.js';
import { openReembed } from '../src/app/open.js';
import { defineSpace } from '../src/core/space.js';
import { startServer } from '../src/server/serve.js';
import { benchArgs, fmt, median, percentile, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 100_000, queries: 300, dimension: 384, seconds: 10 });
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
const viaLeanHttp = (text: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ text, k: 10 });
    const req = request(
      searchUrl,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`search answered ${res.statusCode}`));
          else {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
            resolve();
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
// Warm every path (matrix cache, key cache, JIT).
for (const text of queries.slice(0, 20)) {
  await app.search('bench', { text, k: 10 });
  await viaHttp(text);
  await viaLeanHttp(text);
}
const libraryMs: number[] = [];
const httpMs: number[] = [];
const leanMs: number[] = [];
const diffMs: number[] = [];
const leanDiffMs: number[] = [];
const ORDERS = [
  ['lib', 'fetch', 'lean'],
  ['fetch', 'lean', 'lib'],
  ['lean', 'lib', 'fetch'],
] as const;
for (const [i, text] of queries.entries()) {
  const took: Record<string, number> = {};
  for (const which of ORDERS[i % ORDERS.length] as readonly string[]) {
    const t = performance.now();
    if (which === 'lib') await app.search('bench', { text, k: 10 });
    else if (which === 'fetch') await viaHttp(text);
    else await viaLeanHttp(text);
    took[which] = performance.now() - t;
  }
  const lib = took.lib as number;
  libraryMs.push(lib);
  httpMs.push(took.fetch as number);
  leanMs.push(took.lean as number);
  diffMs.push((took.fetch as number) - lib);
  leanDiffMs.push((took.lean as number) - lib);
}
agent.destroy();

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
await app.close();
rmSync(dir, { recursive: true, force: true });
report('serve', {
  documents: n,
  dimension: Number(args.dimension),
  queries: queries.length,
  library_ms: { median: fmt(median(libraryMs), 2), p99: fmt(percentile(libraryMs, 99), 2) },
  http_ms: { median: fmt(median(httpMs), 2), p99: fmt(percentile(httpMs, 99), 2) },
  http_overhead_ms: { median_of_paired_differences: fmt(median(diffMs), 2) },
  http_lean_client_ms: { median: fmt(median(leanMs), 2), p99: fmt(percentile(leanMs, 99), 2) },
  http_lean_client_overhead_ms: { median_of_paired_differences: fmt(median(leanDiffMs), 2) },
  goal_overhead_median_ms: 1,
  load,
});
