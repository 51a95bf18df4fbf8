import { type Agent, request } from 'node:http';

/**
 * One text search with a node:http keep-alive client (bench/serve.ts, in its own process and in a separate
 * one): the lean way to call the server, so a figure is what the server adds rather than what `fetch`
 * costs the caller. Rejects on any status but 200; the answer is parsed, as a caller would.
 */
export function leanSearch(agent: Agent, url: URL, text: string, key: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ text, k: 10 });
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (key) headers.authorization = `Bearer ${key}`;
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
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
    });
    req.on('error', reject);
    req.end(body);
  });
}
