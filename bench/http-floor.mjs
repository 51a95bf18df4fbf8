// Issue 15: what one HTTP round trip costs on this machine before any framework — a bare node:http server
// answering a 12.5 KB JSON body to a node:http keep-alive client in the same process — and how much of
// that comes from what ran just before it. Each way runs the same request after a different piece of
// work: nothing, a 30 MB sweep of memory (what an exact search over 20,000 × 384 float32 vectors reads),
// allocating 400 KB, 2 ms of spinning, a worker-thread ping, a 2 ms timer. Medians of wall and CPU time
// of the request alone (the work before it is not timed), `--rounds` requests per way.
// Run: node bench/http-floor.mjs [--rounds=600]
import { Agent, createServer, request } from 'node:http';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';

const rounds = Number(/--rounds=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 600);
const payload = JSON.stringify({ hits: 'a'.repeat(12_500) });
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = new URL(`http://127.0.0.1:${server.address().port}/`);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const roundTrip = () =>
  new Promise((resolve, reject) => {
    const body = '{"text":"a query of eight words or so","k":10}';
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
const sweep = new Float32Array((30 * 2 ** 20) / 4).fill(1);
const worker = new Worker(
  'require("node:worker_threads").parentPort.on("message", (m) => require("node:worker_threads").parentPort.postMessage(m));',
  { eval: true },
);
const ping = () =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(1);
  });
let sink = 0;
const before = {
  nothing: async () => {},
  'sweep 30 MB': async () => {
    for (let i = 0; i < sweep.length; i += 16) sink += sweep[i];
  },
  'allocate 400 KB': async () => {
    const xs = [];
    for (let i = 0; i < 100; i++) xs.push(new Float32Array(1000));
    sink += xs.length;
  },
  'spin 2 ms': async () => {
    const t = performance.now();
    while (performance.now() - t < 2) sink++;
  },
  'worker ping': ping,
  'timer 2 ms': () => new Promise((resolve) => setTimeout(resolve, 2)),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < 1000; i++) await roundTrip();
const loadBefore = loadavg();
const results = {};
for (const [name, work] of Object.entries(before)) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < rounds; i++) {
    await work();
    const c0 = process.cpuUsage();
    const t = performance.now();
    await roundTrip();
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c0);
    cpu.push((used.user + used.system) / 1000);
  }
  results[name] = { wall_ms: median(wall).toFixed(3), cpu_ms: median(cpu).toFixed(3) };
}
console.log(
  JSON.stringify(
    {
      benchmark: 'http-floor',
      node: process.version,
      rounds,
      load_average_before: loadBefore.map((x) => x.toFixed(2)),
      load_average_after: loadavg().map((x) => x.toFixed(2)),
      round_trip_after: results,
      sink: sink > 0,
    },
    null,
    2,
  ),
);
agent.destroy();
await worker.terminate();
server.close();
