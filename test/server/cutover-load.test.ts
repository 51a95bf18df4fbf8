import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashing } from '../app/helpers.js';
import { corpus } from '../migration/helpers.js';
import { type TestServer, testServer } from './helpers.js';

/**
 * Cutover and rollback flipped repeatedly through the API while a second process on 127.0.0.1 queries
 * the alias (bounded count and time): zero failed requests, and no response mixes the namespaces of both
 * spaces (one fingerprint per answer, one namespace read).
 */
const CYCLES = 4;
const CLIENT = fileURLToPath(new URL('./query-client.mjs', import.meta.url));

let s: TestServer;
beforeAll(async () => {
  s = await testServer({ rateLimit: { perSecond: 0 } });
  await s.app.ingest('docs', corpus(300));
  for (let i = 3; i < 3 + CYCLES; i++) await s.app.addSpace(hashing(`v${i}`, i));
}, 60_000);
afterAll(async () => {
  await s.close();
});

interface Summary {
  requests: number;
  failures: number;
  mixed: number;
  fingerprints: Record<string, number>;
  errors: unknown[];
}

function startClient(key: string): { done: Promise<Summary>; stop(): void } {
  const child = spawn(process.execPath, [CLIENT, s.url, key, '200000', '120000', '4'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const done = new Promise<Summary>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as Summary);
      } catch (error) {
        reject(new Error(`query client printed no summary: ${out} (${String(error)})`));
      }
    });
  });
  return { done, stop: () => child.stdin.end('stop\n') };
}

describe('cutover under load', () => {
  it(`flips cutover and rollback ${CYCLES} times through the API: zero failed requests, no mixed answers`, async () => {
    const admin = s.keys.admin as string;
    const client = startClient(s.keys.reader as string);
    const flips: string[] = [];
    try {
      // Let the client warm up so queries are in flight before the first flip.
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 3; i < 3 + CYCLES; i++) {
        const started = await s.call('POST', '/v1/migrations', {
          key: admin,
          body: {
            alias: 'docs',
            to: `v${i}`,
            strategy: 'blue-green',
            options: { gates: ['coverage >= 1.0', 'errors == 0'] },
          },
        });
        expect(started.status, started.text).toBe(200);
        const id = (started.json as { migration: { id: string } }).migration.id;
        for (let step = 0; step < 10; step++) {
          const r = await s.call('POST', `/v1/migrations/${id}/step`, { key: admin, body: {} });
          expect(r.status, r.text).toBe(200);
          if ((r.json as { migration: { state: string } }).migration.state === 'validating') break;
        }
        const cut = await s.call('POST', `/v1/migrations/${id}/cutover`, { key: admin, body: {} });
        expect(cut.status, cut.text).toBe(200);
        flips.push('cutover');
        await new Promise((r) => setTimeout(r, 150));
        const back = await s.call('POST', '/v1/migrations/docs/rollback', {
          key: admin,
          body: { reason: 'load test' },
        });
        expect(back.status, back.text).toBe(200);
        expect((back.json as { migration: { state: string } }).migration.state).toBe('rolled-back');
        flips.push('rollback');
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      client.stop();
    }
    const summary = await client.done;
    process.stderr.write(`cutover-load: ${JSON.stringify({ ...summary, flips: flips.length })}\n`);
    expect(flips).toHaveLength(CYCLES * 2);
    expect(summary.errors).toEqual([]);
    expect(summary.failures).toBe(0);
    expect(summary.mixed).toBe(0);
    expect(summary.requests).toBeGreaterThan(100);
    // The client really saw the flips: answers from the original space and from the migrated ones.
    expect(Object.keys(summary.fingerprints).length).toBeGreaterThanOrEqual(2);
    // Every migration change is audited under the key that made it.
    const audit = await s.app.auditLog({ action: 'migration.*' });
    expect(new Set(audit.map((e) => e.actor))).toEqual(new Set(['key:admin']));
    expect(audit.filter((e) => e.action === 'migration.create')).toHaveLength(CYCLES);
  }, 180_000);
});
