import { describe, expect, it } from 'vitest';
import { isReembedError } from '../../core/errors.js';
import { systemClock } from '../../ports/clock.js';
import { SqlCatalog } from '../sql/catalog.js';
import { openPgBackend } from './backend.js';
import { PgExecutor } from './executor.js';
import { sourcesSql } from './sql-catalog.js';
import { instrumentPool, seedCatalog, useTestBackend } from './test-support.js';

/**
 * Control-plane behaviour only the Postgres backend has: rules enforced by the database itself, the
 * cutover's single transaction (observed statement by statement, and broken on purpose), and
 * concurrency across connections. Registered by pg.test.ts when REEMBED_PG_URL is set.
 */
export function describePgCatalogSpecifics(): void {
  describe('pg catalog specifics', () => {
    const open = useTestBackend();

    it('reopens an existing schema (idempotent DDL), with two backends starting at once', async () => {
      const b = await open();
      await seedCatalog(b);
      const again = await Promise.all([
        openPgBackend({ url: b.config.url, schema: b.config.schema }),
        openPgBackend({ url: b.config.url, schema: b.config.schema }),
      ]);
      for (const other of again) expect((await other.catalog.getAlias('docs')).version).toBe(1);
      await Promise.all(again.map((x) => x.close()));
      expect(b.vectorVersion).toMatch(/^\d+\.\d+/);
    });

    it('keyset scans walk the primary key right after a bulk ingest (missing statistics are refreshed first)', async () => {
      const b = await open();
      await b.catalog.createCollection('docs', 'alice');
      await b.sources.upsert(
        'docs',
        Array.from({ length: 3_000 }, (_, i) => ({
          id: `d${String(i).padStart(5, '0')}`,
          text: `text ${i}`,
        })),
      );
      const { scan, statisticsStale, sourcesTable } = sourcesSql(b.config.schema);
      const plan = async (): Promise<string> =>
        (await b.pool.query<Record<string, string>>(`EXPLAIN ${scan}`, ['docs', 'd00100', 500, true])).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      const stale = (await b.pool.query<{ stale: boolean }>(statisticsStale, [sourcesTable])).rows[0]?.stale;
      // Without statistics PostgreSQL reads every row after the cursor and sorts them (unless autovacuum
      // happened to analyze the table in the last moment).
      if (stale) expect(await plan()).toMatch(/Sort/);
      const page = await b.sources.scan('docs', { afterId: 'd00100', limit: 500 });
      expect(page.map((d) => d.id)).toEqual(
        Array.from({ length: 500 }, (_, i) => `d${String(i + 101).padStart(5, '0')}`),
      );
      // Refreshed by the scan — or, when an autovacuum was analyzing the table at that moment (the scan
      // then leaves statistics to it rather than wait on its lock), by that autovacuum a moment later.
      const staleNow = async (): Promise<boolean | undefined> =>
        (await b.pool.query<{ stale: boolean }>(statisticsStale, [sourcesTable])).rows[0]?.stale;
      for (let i = 0; i < 100 && (await staleNow()) !== false; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await staleNow()).toBe(false);
      const after = await plan();
      expect(after).toContain('Index Scan using sources_pkey');
      expect(after).not.toMatch(/Sort/);
    });

    it('a scan does not wait for a VACUUM holding the sources table: statistics are left to it', async () => {
      const b = await open();
      await b.catalog.createCollection('docs', 'alice');
      await b.sources.upsert(
        'docs',
        Array.from({ length: 500 }, (_, i) => ({ id: `d${String(i).padStart(4, '0')}`, text: `text ${i}` })),
      );
      // The lock a running (auto)VACUUM or ANALYZE holds, taken by another session.
      const holder = await b.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`LOCK TABLE "${b.config.schema}".sources IN SHARE UPDATE EXCLUSIVE MODE`);
        const started = performance.now();
        const page = await b.sources.scan('docs', { limit: 10 });
        expect(page.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => `d000${i}`));
        expect(performance.now() - started).toBeLessThan(5_000);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
    });

    it('the audit log refuses UPDATE, DELETE and TRUNCATE (a trigger, not only the API)', async () => {
      const b = await open();
      await seedCatalog(b);
      const table = `"${b.config.schema}".audit_log`;
      for (const sql of [
        `UPDATE ${table} SET actor = 'mallory'`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ]) {
        await expect(b.pool.query(sql)).rejects.toThrow(/append-only/);
      }
      expect((await b.catalog.listAudit()).every((e) => e.actor === 'alice')).toBe(true);
    });

    it('one row per alias name is a storage rule (unique index)', async () => {
      const b = await open();
      await seedCatalog(b);
      const sql = `INSERT INTO "${b.config.schema}".aliases (name, collection, routing, serving_namespace, version, updated_at)
      VALUES ('docs', 'docs', '{}', 'docs@pg-v2', 9, now())`;
      await expect(b.pool.query(sql)).rejects.toThrow(/aliases_one_row_per_name/);
    });

    it('cutover: the alias row and its audit line commit in one transaction, or neither does', async () => {
      const b = await open();
      await seedCatalog(b);
      const log = instrumentPool(b.pool);
      const observed = new SqlCatalog(new PgExecutor(log, b.config.schema), systemClock);
      const cut = await observed.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v2' }, 'bob');
      expect(cut.version).toBe(2);
      const client = log.entries.find(
        (e) => e.text.startsWith('UPDATE') && e.text.includes('aliases'),
      )?.client;
      const tx = log.entries
        .filter((e) => e.client === client)
        .map((e) => e.text.split(/\s+/).slice(0, 3).join(' '));
      expect(tx[0]).toBe('BEGIN');
      expect(tx.at(-1)).toBe('COMMIT');
      expect(tx.filter((t) => t.startsWith('UPDATE')).length).toBe(1);
      expect(tx.some((t) => t.startsWith('INSERT INTO') && t.includes('audit_log'))).toBe(true);

      // A crash after the alias UPDATE, before its audit line: the cutover must not be visible.
      const failing = instrumentPool(b.pool, {
        fail: (text) => text.includes('audit_log') && text.startsWith('INSERT'),
      });
      const crashing = new SqlCatalog(new PgExecutor(failing, b.config.schema), systemClock);
      await expect(
        crashing.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v1' }, 'eve', {
          expectedVersion: 2,
        }),
      ).rejects.toThrow();
      expect(failing.entries.some((e) => e.text.startsWith('UPDATE') && e.text.includes('aliases'))).toBe(
        true,
      );
      expect(await b.catalog.getAlias('docs')).toEqual(cut);
      expect(
        (await b.catalog.listAudit({ subject: 'docs', action: 'alias.set' })).map((e) => e.actor),
      ).toEqual(['alice', 'bob']);
    });

    it('cutover under contention: one compare-and-set winner, readers never see a mixed row', async () => {
      const b = await open({ poolMax: 8 });
      await seedCatalog(b);
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@pg-v2' }, `w${i}`, {
            expectedVersion: 1,
          }),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const a of attempts)
        if (a.status === 'rejected') expect(isReembedError(a.reason, 'CONFLICT')).toBe(true);
      // Flip back and forth while readers check that routing, serving_namespace and version agree.
      let flipping = true;
      const reads: Promise<void>[] = [];
      const reader = async (): Promise<void> => {
        while (flipping) {
          const { rows } = await b.pool.query<{
            routing: { namespace: string };
            serving_namespace: string;
            version: number;
          }>(
            `SELECT routing, serving_namespace, version FROM "${b.config.schema}".aliases WHERE name = 'docs'`,
          );
          const row = rows[0];
          expect(row?.routing.namespace).toBe(row?.serving_namespace);
          expect(row?.serving_namespace).toBe(row && row.version % 2 === 0 ? 'docs@pg-v2' : 'docs@pg-v1');
        }
      };
      for (let i = 0; i < 3; i++) reads.push(reader());
      for (let version = 2; version < 22; version++) {
        const next = version % 2 === 0 ? 'docs@pg-v1' : 'docs@pg-v2';
        await b.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: next }, 'flipper', {
          expectedVersion: version,
        });
      }
      flipping = false;
      await Promise.all(reads);
      expect((await b.catalog.getAlias('docs')).version).toBe(22);
    });

    it('concurrent upserts take distinct, gap-free versions (row lock on the collection counter)', async () => {
      const b = await open({ poolMax: 6 });
      await b.catalog.createCollection('docs', 'alice');
      const batches = Array.from({ length: 6 }, (_, i) =>
        [0, 1, 2].map((j) => ({ id: `b${i}-${j}`, text: `t ${i} ${j}` })),
      );
      const outcomes = await Promise.all(batches.map((docs) => b.sources.upsert('docs', docs)));
      const versions = outcomes.flatMap((o) => o.changed.map((d) => d.version)).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
      for (const o of outcomes) {
        const own = o.changed.map((d) => d.version);
        expect(own).toEqual([own[0], (own[0] as number) + 1, (own[0] as number) + 2]);
      }
    });
  });
}
