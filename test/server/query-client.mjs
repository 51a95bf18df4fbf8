// A second process querying the server while the test flips cutover and rollback: bounded by a request
// count and a deadline, it prints one JSON summary (requests, failures, mixed answers, fingerprints seen).
const [url, key, maxRequests, maxMs, concurrency] = process.argv.slice(2);
const words = [
  'vector',
  'cutover',
  'rollback',
  'shadow',
  'tenant',
  'recall',
  'latency',
  'fusion',
  'alias',
  'index',
  'query',
];
const deadline = Date.now() + Number(maxMs);
let sent = 0;
const summary = { requests: 0, failures: 0, mixed: 0, fingerprints: {}, errors: [] };
let stop = false;
process.stdin.on('data', () => {
  stop = true;
});
async function worker(w) {
  while (!stop && sent < Number(maxRequests) && Date.now() < deadline) {
    const i = sent++;
    // Three distinct words: an odd number of signed hashing features can never cancel to a zero vector.
    const a = i % words.length;
    const text = `${words[a]} ${words[(a + 1 + w) % words.length]} ${words[(a + 5 + w) % words.length]}`;
    try {
      const res = await fetch(`${url}/v1/aliases/docs/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text, k: 5 }),
      });
      const body = await res.json();
      summary.requests++;
      if (res.status !== 200) {
        summary.failures++;
        if (summary.errors.length < 5) summary.errors.push(body);
        continue;
      }
      const prints = new Set(body.hits.map((h) => h.provenance.fingerprint));
      for (const f of body.trace.fingerprints) prints.add(f);
      if (prints.size > 1 || body.trace.mixedVersion || body.trace.reads.length !== 1) summary.mixed++;
      for (const f of prints) summary.fingerprints[f] = (summary.fingerprints[f] ?? 0) + 1;
    } catch (error) {
      summary.requests++;
      summary.failures++;
      if (summary.errors.length < 5) summary.errors.push(String(error));
    }
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, (_, w) => worker(w)));
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
