// Load generator of bench/serve.ts (a separate process, as a service calling reembed would be): keeps
// `concurrency` search requests in flight for `seconds`, then prints requests/s and latency percentiles.
const [url, key, concurrency, seconds, queriesJson] = process.argv.slice(2);
const queries = JSON.parse(queriesJson);
const deadline = performance.now() + Number(seconds) * 1000;
const latencies = [];
let failures = 0;
let next = 0;
async function worker() {
  while (performance.now() < deadline) {
    const text = queries[next++ % queries.length];
    const t = performance.now();
    const res = await fetch(`${url}/v1/aliases/bench/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text, k: 10 }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) failures++;
    latencies.push(performance.now() - t);
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, failures, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99) })}\n`,
);
