import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_SKIP_LINE, PG_URL } from '../../src/stores/pg/test-support.js';
import { corpus } from './corpus.js';
import { type TestBackend, type TestServer, testServer } from './helpers.js';

/**
 * The endpoints behind the dashboard against a real server on 127.0.0.1, over a real SQLite file and over
 * real PostgreSQL (a fresh schema; skipped without REEMBED_PG_URL): the page itself, collections with their
 * namespaces' coverage and version distribution, gates evaluated without acting, replay and probes over the
 * API, shadow agreement and latency, the review queue and its judgments stored as a golden set, coverage
 * sampled by the server while a backfill runs, and the step / cutover / rollback buttons' calls.
 */
for (const backend of ['sqlite', 'postgres'] as const satisfies readonly TestBackend[]) {
  const skip = backend === 'postgres' && !PG_URL;
  describe.skipIf(skip)(skip ? PG_SKIP_LINE : `dashboard API (${backend})`, () => dashboardSuite(backend));
}

function dashboardSuite(backend: TestBackend): void {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await testServer({ backend, coverageIntervalMs: 100, qualityIntervalMs: 0 });
    await s.app.ingest('docs', corpus(400));
    admin = s.keys.admin as string;
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  });

  describe('dashboard API', () => {
    it('serves the page and its assets without a CDN, under a same-origin CSP', async () => {
      const page = await fetch(`${s.url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<script type="module" src="/dashboard/app.js">');
      expect(html).not.toMatch(/https?:\/\//);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const js = await fetch(`${s.url}/dashboard/app.js`);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect(await js.text()).not.toMatch(/innerHTML/);
    });

    it('probes over the API: create, list, show, eval (one namespace, and old vs new)', async () => {
      const created = await s.call('POST', '/v1/probes', {
        key: admin,
        body: { collection: 'docs', name: 'docs-api' },
      });
      expect(created.status, created.text).toBe(200);
      expect((created.json as { queries: number }).queries).toBeGreaterThanOrEqual(30);
      const list = (await s.call('GET', '/v1/probes', { key: admin })).json as { name: string }[];
      expect(list.map((p) => p.name)).toContain('docs-api');
      const shown = (await s.call('GET', '/v1/probes/docs-api?queries=3', { key: admin })).json as {
        sample: unknown[];
      };
      expect(shown.sample).toHaveLength(3);
      const one = await s.call('POST', '/v1/probes/docs-api/eval', { key: admin, body: { alias: 'docs' } });
      expect(one.status, one.text).toBe(200);
      expect((one.json as { label: string; metrics: Record<string, number> }).label).toBe('probe');
      const bad = await s.call('POST', '/v1/probes/docs-api/eval', { key: admin, body: { old: 'docs@v1' } });
      expect(bad.status).toBe(400);
      expect(await s.call('GET', '/v1/probes/nope', { key: admin })).toMatchObject({ status: 404 });
    });

    it('a shadow migration: coverage sampled while it backfills, gates without acting, replay, review queue', async () => {
      const start = await s.call('POST', '/v1/migrations', {
        key: admin,
        body: {
          alias: 'docs',
          to: 'v2',
          strategy: 'shadow',
          options: { backfill: { batchSize: 40, concurrency: 1 } },
        },
      });
      expect(start.status, start.text).toBe(200);
      for (let i = 0; i < 4; i++) {
        await s.call('POST', '/v1/migrations/docs/step', { key: admin, body: { maxBatches: 2 } });
        await new Promise((r) => setTimeout(r, 250));
      }
      const history = (await s.call('GET', '/v1/coverage?namespace=docs@v2', { key: s.keys.reader }))
        .json as {
        samples: { current: number; live: number }[];
      };
      // Several distinct points while the backfill was under way, rising.
      const currents = history.samples.map((x) => x.current);
      expect(new Set(currents).size).toBeGreaterThanOrEqual(3);
      expect([...currents].sort((a, b) => a - b)).toEqual(currents);

      // Gates evaluated now change nothing and are recorded with a quality point.
      const before = (
        (await s.call('GET', '/v1/migrations/docs', { key: admin })).json as {
          migration: { state: string; version: number };
        }
      ).migration;
      const gates = await s.call('POST', '/v1/migrations/docs/gates', { key: admin });
      expect(gates.status, gates.text).toBe(200);
      const g = gates.json as { passed: boolean; results: { rule: string }[]; quality: { label: string } };
      expect(g.passed).toBe(false);
      expect(g.results.map((r) => r.rule)).toContain('coverage >= 1.0');
      expect(g.quality.label).toBe('probe');
      const after = (
        (await s.call('GET', '/v1/migrations/docs', { key: admin })).json as {
          migration: { state: string; info: { qualityHistory: unknown[] } };
        }
      ).migration;
      expect(after.state).toBe(before.state);
      expect(after.info.qualityHistory.length).toBeGreaterThanOrEqual(1);

      // Replay is refused outside the shadowing phase, then records samples.
      const early = await s.call('POST', '/v1/migrations/docs/replay', { key: admin, body: {} });
      expect(early.status).toBe(409);
      let state = after.state;
      for (let i = 0; i < 5 && state !== 'shadowing'; i++) {
        const step = await s.call('POST', '/v1/migrations/docs/step', { key: admin });
        state = (step.json as { migration: { state: string } }).migration.state;
      }
      expect(state).toBe('shadowing');
      const replay = await s.call('POST', '/v1/migrations/docs/replay', { key: admin, body: { limit: 25 } });
      expect(replay.status, replay.text).toBe(200);
      expect((replay.json as { recorded: number }).recorded).toBe(25);

      // The review queue: lost and gained documents with their text; judgments become golden set review-docs.
      const queue = await s.call('GET', '/v1/migrations/docs/review?limit=3', { key: admin });
      expect(queue.status, queue.text).toBe(200);
      const q = queue.json as {
        golden: string;
        items: {
          id: string;
          text: string;
          tenant: string | null;
          lost: { id: string; text: string; oldRank: number }[];
          gained: { id: string; text: string; newRank: number }[];
        }[];
      };
      expect(q.golden).toBe('review-docs');
      expect(q.items.length).toBeGreaterThan(0);
      const item = q.items[0] as (typeof q.items)[number];
      expect(item.lost.length + item.gained.length).toBeGreaterThan(0);
      const lost = item.lost[0] ?? item.gained[0];
      expect(lost?.text?.length ?? 0).toBeGreaterThan(10);
      const refusedAllNo = await s.call('POST', '/v1/migrations/docs/review', {
        key: admin,
        body: {
          judgments: [
            {
              query: { id: item.id, text: item.text, tenant: item.tenant },
              docId: lost?.id,
              relevant: false,
            },
          ],
        },
      });
      expect(refusedAllNo.status).toBe(400);
      const wrongId = await s.call('POST', '/v1/migrations/docs/review', {
        key: admin,
        body: {
          judgments: [{ query: { id: 'rdeadbeef0000', text: item.text }, docId: lost?.id, relevant: true }],
        },
      });
      expect(wrongId.status).toBe(400);
      const saved = await s.call('POST', '/v1/migrations/docs/review', {
        key: admin,
        body: {
          judgments: [
            { query: { id: item.id, text: item.text, tenant: item.tenant }, docId: lost?.id, relevant: true },
          ],
        },
      });
      expect(saved.status, saved.text).toBe(200);
      expect(saved.json).toMatchObject({ stored: 1, queries: 1, golden: { name: 'review-docs' } });
      // The migration's status names the review set (as `reembed migrate status` prints it).
      const status = await s.call('GET', '/v1/migrations/docs', { key: admin });
      expect(status.json).toMatchObject({
        review: { golden: 'review-docs', queries: 1, judgments: 1, usedByGates: false },
      });
      const withReview = await s.call('POST', '/v1/migrations/docs/gates', {
        key: admin,
        body: { golden: 'review-docs' },
      });
      const facts = (withReview.json as { facts: Record<string, number> }).facts;
      expect(facts['new.ndcg@10']).toBeTypeOf('number');
      expect(facts['old.ndcg@10']).toBeTypeOf('number');
      const again = (await s.call('GET', '/v1/migrations/docs/review?limit=3', { key: admin }))
        .json as typeof q;
      expect(again.items.map((i) => i.id)).not.toContain(item.id);
      const audit = await s.call('GET', '/v1/audit?limit=50', { key: admin });
      expect(audit.text).toContain('key:admin');
    }, 60_000);

    it('tokens and cost so far in /v1/status, and the key behind /v1/session', async () => {
      const status = (await s.call('GET', '/v1/status', { key: s.keys.reader })).json as {
        migrations: { spend: { tokens: number; estimated: boolean; tokensPerDocument: number } }[];
      };
      const spend = status.migrations[0]?.spend;
      expect(spend?.estimated).toBe(true);
      expect(spend?.tokens).toBeGreaterThan(0);
      const me = (await s.call('GET', '/v1/session', { key: s.keys.tenant1 })).json;
      expect(me).toMatchObject({ name: 'tenant1', scope: 'write', tenant: 't1' });
    });

    it('what the page draws: collections with coverage and versions, progress, agreement, latency', async () => {
      // Served queries while shadowing record agreement samples and traffic, as the page shows them.
      for (const text of ['tombstone backfill', 'rank fusion', 'blue-green cutover'])
        expect(
          (await s.call('POST', '/v1/aliases/docs/search', { key: s.keys.reader, body: { text } })).status,
        ).toBe(200);
      await s.server.deps.migrations.observer.flush();
      const collections = (await s.call('GET', '/v1/collections', { key: s.keys.reader })).json as {
        name: string;
        aliases: { alias: { name: string } }[];
        namespaces: {
          namespace: string;
          state: string;
          records: number;
          coverage: { ratio: number };
          fingerprints: Record<string, number>;
          space: { dimension: number };
        }[];
      }[];
      const docs = collections.find((c) => c.name === 'docs');
      expect(docs?.aliases.map((a) => a.alias.name)).toContain('docs');
      const byName = new Map(docs?.namespaces.map((n) => [n.namespace, n]));
      const v1 = byName.get('docs@v1');
      const v2 = byName.get('docs@v2');
      expect(v1?.coverage.ratio).toBe(1);
      expect(v2?.coverage.ratio).toBe(1);
      // Version distribution: every namespace holds exactly one fingerprint, covering all its records.
      for (const ns of [v1, v2]) {
        expect(Object.keys(ns?.fingerprints ?? {})).toHaveLength(1);
        expect(Object.values(ns?.fingerprints ?? {})[0]).toBe(ns?.records);
      }
      expect(v1?.records).toBe(404);

      const status = (await s.call('GET', '/v1/status', { key: s.keys.reader })).json as {
        migrations: {
          migration: { id: string; state: string; info: { qualityHistory: { label: string }[] } };
          backfill: { state: string; documents: { current: number; live: number; ratio: number } };
          agreement: { samples: number; rbo: number | null; servedMs: { p50: number | null } } | null;
          deadLetters: number;
        }[];
      };
      const m = status.migrations[0];
      expect(m?.migration.state).toBe('shadowing');
      expect(m?.backfill.documents).toMatchObject({ current: 404, live: 404, ratio: 1 });
      expect(m?.deadLetters).toBe(0);
      expect(m?.migration.info.qualityHistory.length).toBeGreaterThanOrEqual(2);
      expect(m?.agreement?.samples).toBeGreaterThanOrEqual(25);
      expect(m?.agreement?.rbo).toBeTypeOf('number');
      expect(m?.agreement?.servedMs.p50).toBeTypeOf('number');

      const coverage = (await s.call('GET', '/v1/coverage', { key: s.keys.reader })).json as {
        samples: { namespace: string; current: number }[];
      };
      expect(coverage.samples.some((x) => x.namespace === 'docs@v2')).toBe(true);

      // The server flushes query traffic every 5 s: poll as the page does until it shows.
      type Monitor = {
        namespaces: { namespace: string; latencyP50Ms: number | null; trafficShare: number | null }[];
      };
      let served: Monitor['namespaces'][number] | undefined;
      for (const until = Date.now() + 15_000; Date.now() < until; ) {
        const monitor = (await s.call('GET', '/v1/monitor', { key: s.keys.reader })).json as Monitor;
        served = monitor.namespaces.find((n) => n.namespace === 'docs@v1');
        if (served?.latencyP50Ms !== null && served?.latencyP50Ms !== undefined) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(served?.latencyP50Ms).toBeTypeOf('number');
      expect(served?.trafficShare).toBeGreaterThan(0);
    }, 30_000);

    it("the buttons' calls: gates then cutover with the review set, then rollback", async () => {
      const cut = await s.call('POST', '/v1/migrations/docs/cutover', {
        key: admin,
        body: { golden: 'review-docs' },
      });
      // The gates decide (a cutover with failing gates is refused with a typed 412, and changes nothing).
      if (cut.status === 200) {
        expect((cut.json as { migration: { state: string } }).migration.state).toBe('cut-over');
      } else {
        expect(cut.status, cut.text).toBe(412);
        expect((cut.json as { error: { code: string } }).error.code).toBe('GATE_FAILED');
      }
      const back = await s.call('POST', '/v1/migrations/docs/rollback', {
        key: admin,
        body: { reason: 'from the dashboard' },
      });
      expect(back.status, back.text).toBe(200);
      expect((back.json as { migration: { state: string } }).migration.state).toBe('rolled-back');
      const alias = (await s.call('GET', '/v1/aliases/docs', { key: admin })).json as { namespace?: string };
      expect(JSON.stringify(alias)).toContain('docs@v1');
    });
  });
}
