import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashing } from '../app/helpers.js';
import { tempDir } from '../cli/helpers.js';
import { type TestServer, testServer } from './helpers.js';

/** The API as a client uses it, against a real server on 127.0.0.1 over a real SQLite file. */
let s: TestServer;
beforeAll(async () => {
  s = await testServer();
}, 30_000);
afterAll(async () => {
  await s.close();
});

const errorCode = (json: unknown): string => (json as { error: { code: string } }).error.code;

describe('HTTP API', () => {
  it('searches by text with trace and provenance, and by vector in its declared space', async () => {
    const r = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { text: 'rank fusion without raw scores', k: 2, filter: { tenant: 't1' } },
    });
    expect(r.status).toBe(200);
    const body = r.json as {
      hits: { sourceId: string; provenance: { fingerprint: string; sourceVersion: number } }[];
      trace: { reads: { namespace: string; role: string }[]; mixedVersion: boolean; filter: unknown };
    };
    expect(body.hits.map((h) => h.sourceId)).toEqual(['c']);
    expect(body.hits[0]?.provenance.fingerprint).toBe(hashing('v1', 1).fingerprint);
    expect(body.trace.reads).toMatchObject([{ namespace: 'docs@v1', role: 'served' }]);
    expect(body.trace.filter).toEqual({ tenant: 't1' });

    const vector = Array.from({ length: 64 }, (_, i) => (i % 7) - 3);
    const byVector = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { vector, space: 'v1', k: 3 },
    });
    expect(byVector.status).toBe(200);
    const wrongSpace = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { vector, space: 'v2', k: 3 },
    });
    expect(wrongSpace.status).toBe(409);
    expect(errorCode(wrongSpace.json)).toBe('SPACE_MISMATCH');
  });

  it('upserts all-or-nothing and deletes; lists collections with manifests, aliases, spaces, status', async () => {
    const bad = await s.call('POST', '/v1/collections/docs/documents', {
      key: s.keys.writer,
      body: {
        documents: [
          { id: 'n1', text: 'new one' },
          { id: 'n1', text: 'twice' },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(await s.app.backend.sources.get('docs', 'n1')).toBeNull();
    const ok = await s.call('POST', '/v1/collections/docs/documents', {
      key: s.keys.writer,
      body: { documents: [{ id: 'n1', text: 'new one about cutover', metadata: { lang: 'en' } }] },
    });
    expect(ok.json).toMatchObject({ received: 1, changed: 1 });
    const del = await s.call('POST', '/v1/collections/docs/documents/delete', {
      key: s.keys.writer,
      body: { ids: ['n1'] },
    });
    expect(del.json).toMatchObject({ deleted: 1 });

    const collections = (await s.call('GET', '/v1/collections', { key: s.keys.reader })).json as {
      name: string;
      namespaces: { namespace: string; coverage: { ratio: number } }[];
      aliases: { name: string }[];
    }[];
    expect(collections[0]).toMatchObject({
      name: 'docs',
      namespaces: [{ namespace: 'docs@v1' }],
      aliases: [{ alias: { name: 'docs' } }],
    });
    expect(collections[0]?.namespaces[0]?.coverage.ratio).toBe(1);
    const spaces = (await s.call('GET', '/v1/spaces', { key: s.keys.reader })).json as { name: string }[];
    expect(spaces.map((x) => x.name).sort()).toEqual(['v1', 'v2']);
    const status = (await s.call('GET', '/v1/status?collection=docs', { key: s.keys.reader })).json as {
      namespaces: unknown[];
      migrations: unknown[];
    };
    expect(status.namespaces).toHaveLength(1);
    expect((await s.call('GET', '/v1/aliases/nope', { key: s.keys.reader })).status).toBe(404);
  });

  it('runs a migration end to end: plan, start, step, gate refusal, cutover, rollback; audit names the key', async () => {
    const admin = s.keys.admin as string;
    const plan = await s.call('POST', '/v1/migrations/plan', {
      key: admin,
      body: { alias: 'docs', to: 'v2', strategy: 'shadow', latencyMs: 5, sampleSize: 0 },
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json).toMatchObject({ kind: 'migration-plan', from: 'docs@v1', to: 'docs@v2' });
    const start = await s.call('POST', '/v1/migrations', {
      key: admin,
      body: { alias: 'docs', to: 'v2', strategy: 'shadow', options: { minShadowSamples: 1000 } },
    });
    expect(start.status, start.text).toBe(200);
    expect(
      (
        await s.call('POST', '/v1/migrations', {
          key: admin,
          body: { alias: 'docs', to: 'v2', strategy: 'shadow' },
        })
      ).status,
    ).toBe(409);
    for (let i = 0; i < 4; i++)
      await s.call('POST', '/v1/migrations/docs/step', { key: admin, body: { maxBatches: 100 } });
    const status = (await s.call('GET', '/v1/migrations/docs', { key: admin })).json as {
      migration: { state: string };
      backfill: { documents: { ratio: number } };
    };
    expect(status.migration.state).toBe('shadowing');
    expect(status.backfill.documents.ratio).toBe(1);
    const refused = await s.call('POST', '/v1/migrations/docs/cutover', { key: admin, body: {} });
    expect(refused.status).toBe(412);
    expect(errorCode(refused.json)).toBe('GATE_FAILED');
    const forced = await s.call('POST', '/v1/migrations/docs/cutover', {
      key: admin,
      body: { force: true, reason: 'api test' },
    });
    expect(forced.status, forced.text).toBe(200);
    const served = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { text: 'fusion' },
    });
    expect((served.json as { trace: { reads: { namespace: string }[] } }).trace.reads[0]?.namespace).toBe(
      'docs@v2',
    );
    const back = await s.call('POST', '/v1/migrations/docs/rollback', {
      key: admin,
      body: { reason: 'api test' },
    });
    expect((back.json as { migration: { state: string } }).migration.state).toBe('rolled-back');
    const audit = (await s.call('GET', '/v1/audit?action=gate.forced', { key: admin })).json as {
      actor: string;
    }[];
    expect(audit.map((e) => e.actor)).toEqual(['key:admin']);
    const list = (await s.call('GET', '/v1/migrations?alias=docs', { key: admin })).json as unknown[];
    expect(list).toHaveLength(1);
  });

  it('stores a golden set and evaluates an alias on it; refuses an unknown set by name', async () => {
    const admin = s.keys.admin as string;
    const put = await s.call('PUT', '/v1/golden-sets/mini', {
      key: admin,
      body: {
        queries: [
          { id: 'q1', text: 'rank fusion raw scores' },
          { id: 'q2', text: 'tombstone deleted document' },
        ],
        judgments: [
          { queryId: 'q1', docId: 'c', grade: 1 },
          { queryId: 'q2', docId: 'd', grade: 1 },
        ],
      },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ name: 'mini', queries: 2, savedBy: 'key:admin' });
    const sets = (await s.call('GET', '/v1/golden-sets', { key: admin })).json as { name: string }[];
    expect(sets.map((x) => x.name)).toEqual(['mini']);
    const run = await s.call('POST', '/v1/eval', {
      key: admin,
      body: { alias: 'docs', golden: 'mini', ks: [1, 5] },
    });
    expect(run.status, run.text).toBe(200);
    expect((run.json as { metrics: Record<string, number> }).metrics['recall@5']).toBe(1);
    const unknown = await s.call('POST', '/v1/eval', { key: admin, body: { alias: 'docs', golden: 'nope' } });
    expect(unknown.status).toBe(404);
    expect((await s.call('DELETE', '/v1/golden-sets/mini', { key: admin })).status).toBe(200);
  });

  it('creates, lists and revokes keys through the API; secrets never appear in listings', async () => {
    const admin = s.keys.admin as string;
    const created = await s.call('POST', '/v1/keys', {
      key: admin,
      body: { name: 'svc', scope: 'query', tenant: 't9' },
    });
    expect(created.status).toBe(200);
    const secret = (created.json as { secret: string }).secret;
    expect(
      (await s.call('POST', '/v1/aliases/docs/search', { key: secret, body: { text: 'x y z' } })).status,
    ).toBe(200);
    const listing = await s.call('GET', '/v1/keys', { key: admin });
    expect(listing.text).not.toContain(secret.slice(16));
    expect(listing.text).toContain('"tenant":"t9"');
    const tenantAdmin = await s.call('POST', '/v1/keys', {
      key: admin,
      body: { name: 'bad', scope: 'admin', tenant: 't9' },
    });
    expect(tenantAdmin.status).toBe(400);
    expect((await s.call('DELETE', '/v1/keys/svc', { key: admin })).status).toBe(200);
    expect(
      (await s.call('POST', '/v1/aliases/docs/search', { key: secret, body: { text: 'x y z' } })).status,
    ).toBe(401);
  });

  it('publishes Prometheus metrics: query latency per alias and namespace, requests, errors, monitor gauges', async () => {
    await s.call('GET', '/v1/monitor', { key: s.keys.reader });
    const text = (await s.call('GET', '/metrics', { key: s.keys.reader })).text;
    expect(text).toMatch(
      /reembed_query_duration_seconds_bucket\{le="[^"]+",alias="docs",namespace="docs@v1",role="served"\}/,
    );
    expect(text).toMatch(/reembed_queries_total\{alias="docs",namespace="docs@v1"\} \d+/);
    expect(text).toMatch(
      /reembed_http_requests_total\{route="\/v1\/aliases\/:alias\/search",method="POST",status="200"\}/,
    );
    expect(text).toMatch(/reembed_errors_total\{code="UNAUTHORIZED"\}/);
    expect(text).toMatch(/reembed_namespace_coverage_ratio\{namespace="docs@v1"\} 1/);
    expect(text).toMatch(/reembed_namespace_fingerprint_share\{namespace="docs@v1"\} 1/);
  });
});

describe('reembed serve as a process', () => {
  const root = resolve(import.meta.dirname, '../..');
  it('first start creates and prints an admin key once, serves, and exits promptly on SIGTERM / SIGINT', async () => {
    const { dir, cleanup } = tempDir('reembed-serve-');
    try {
      const db = join(dir, 'serve.db');
      const run = (signal: NodeJS.Signals, immediately = false) =>
        new Promise<{ stdout: string; stderr: string; exitMs: number; code: number | null; url: string }>(
          (resolvePromise, reject) => {
            const child = spawn(
              process.execPath,
              [
                '--import',
                'tsx',
                join(root, 'src/cli/entry.ts'),
                '--db',
                db,
                'serve',
                '--port',
                '0',
                '--host',
                '0.0.0.0',
              ],
              { cwd: root, env: { ...process.env, REEMBED_PG_URL: '' } },
            );
            let stdout = '';
            let stderr = '';
            let sentAt = 0;
            child.stdout.on('data', (c: Buffer) => {
              stdout += c.toString();
            });
            child.stderr.on('data', (c: Buffer) => {
              stderr += c.toString();
              const m = /Serving (http:\/\/\S+)/.exec(stderr);
              if (m && sentAt === 0 && immediately) {
                // The moment the line appears, as a supervisor would: the signal must already be handled.
                sentAt = performance.now();
                child.kill(signal);
              } else if (m && sentAt === 0) {
                fetch(`${m[1]}/healthz`)
                  .then((res) => {
                    expect(res.status).toBe(200);
                    sentAt = performance.now();
                    child.kill(signal);
                  })
                  .catch(reject);
              }
            });
            child.on('error', reject);
            child.on('exit', (code) =>
              resolvePromise({
                stdout,
                stderr,
                code,
                exitMs: performance.now() - sentAt,
                url: /Serving (http:\/\/\S+)/.exec(stderr)?.[1] ?? '',
              }),
            );
          },
        );
      const { execFileSync } = await import('node:child_process');
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(root, 'src/cli/entry.ts'), '--db', db, 'init'],
        {
          cwd: root,
          env: { ...process.env, REEMBED_PG_URL: '' },
        },
      );
      const first = await run('SIGTERM');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/created admin key "admin".*\n\n {2}rk_[0-9a-f]{12}_\S{43}\n/s);
      // No key had been handed out: it listened on loopback only, and said so.
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(first.stderr).toContain('listening on 127.0.0.1 instead of 0.0.0.0');
      expect(first.exitMs).toBeLessThan(3000);
      const second = await run('SIGINT');
      expect(second.code).toBe(0);
      expect(second.stdout).not.toContain('rk_'); // printed once only
      expect(second.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
      expect(second.exitMs).toBeLessThan(3000);
      // SIGINT the instant "Serving" is printed: a graceful stop (before the fix: killed by the signal).
      const third = await run('SIGINT', true);
      expect(third.code).toBe(0);
      expect(third.stderr).toContain('stopped.');
    } finally {
      cleanup();
    }
  }, 120_000);
});
