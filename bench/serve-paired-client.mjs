// Paired client of bench/serve.ts in a separate process, as a service calling reembed would be: on each
// IPC message {url, text, key} it makes one search with a node:http keep-alive client and answers with the
// request's wall time in milliseconds (the IPC itself is outside the timed span).
import { Agent, request } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const search = (url, text, key) =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ text, k: 10 });
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (key) headers.authorization = `Bearer ${key}`;
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`search answered ${res.statusCode}`));
        else {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
process.on('message', (m) => {
  if (m === 'exit') {
    agent.destroy();
    process.disconnect();
    return;
  }
  const t = performance.now();
  search(new URL(m.url), m.text, m.key).then(
    () => process.send({ ms: performance.now() - t }),
    (error) => process.send({ error: String(error) }),
  );
});
process.send({ ready: true });
