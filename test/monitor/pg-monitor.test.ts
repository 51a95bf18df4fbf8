import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { defineSpace } from '../../src/core/space.js';
import { runMonitor } from '../../src/monitor/run.js';
import type { PgBackend } from '../../src/stores/pg/backend.js';
import { tableNameOf } from '../../src/stores/pg/sql-records.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';

const v1 = defineSpace('v1', { provider: 'hashing', model: 'fnv1a', dimension: 16, params: { seed: 1 } });
const v2 = defineSpace('v2', { provider: 'hashing', model: 'fnv1a', dimension: 16, params: { seed: 2 } });

describe.skipIf(!PG_URL)(PG_URL ? 'monitor on Postgres' : PG_SKIP_LINE, () => {
  let app: Reembed;
  let schema: string;
  beforeEach(async () => {
    schema = uniqueSchema();
    app = await openReembed({ pg: PG_URL, pgSchema: schema, pgDropSchemaOnClose: true, actor: 'test' });
    await app.addSpace(v1);
    await app.addSpace(v2);
    await app.createCollection('docs', 'v1');
    await app.ingest('docs', [
      { id: 'a', text: 'alpha document about embeddings' },
      { id: 'b', text: 'beta document about migrations' },
    ]);
  });
  afterEach(async () => app.close());

  const checkOf = async (name: string) =>
    (await runMonitor(app)).checks.find((c) => c.namespace === 'docs@v1' && c.check === name);

  it('is clean on an untouched namespace', async () => {
    const report = await runMonitor(app);
    expect(report.alerts).toBe(0);
  });

  it("detects a namespace table altered behind reembed's back to hold a vector of another dimension", async () => {
    const pool = (app.backend as PgBackend).pool;
    const table = `"${schema}"."${tableNameOf('docs@v1')}"`;
    // What an operator "fixing" a schema by hand could do: drop the index, widen the column, then write a
    // 17-d vector into a 16-d namespace.
    const indexes = await pool.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexdef LIKE '%hnsw%'`,
      [schema],
    );
    for (const row of indexes.rows) await pool.query(`DROP INDEX "${schema}"."${row.indexname}"`);
    await pool.query(`ALTER TABLE ${table} ALTER COLUMN embedding TYPE vector`);
    await pool.query(
      `INSERT INTO ${table} (source_id, chunk_index, record_id, fingerprint, content_hash, source_version, embedded_at, tenant, metadata, text, embedding)
       VALUES ('rogue', 0, 'rogue#0', $1, 'h', 1, now(), NULL, '{}', 'rogue', $2::vector)`,
      [v1.fingerprint, `[${new Array(17).fill(0.1).join(',')}]`],
    );
    expect((await checkOf('dimension'))?.status).toBe('alert');
    expect((await runMonitor(app)).alerts).toBeGreaterThan(0);
    // The healthy rows still answer: the odd row is skipped, not a failure of every search.
    const { hits } = await app.search('docs', { text: 'alpha document about embeddings', k: 5 });
    expect(hits.map((h) => h.sourceId)).toEqual(['a', 'b']);
  });

  it('detects a record of a foreign fingerprint inserted directly into the table', async () => {
    const pool = (app.backend as PgBackend).pool;
    const table = `"${schema}"."${tableNameOf('docs@v1')}"`;
    const check = await pool.query<{ conname: string }>(
      `SELECT conname FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype = 'c'`,
    );
    for (const row of check.rows) await pool.query(`ALTER TABLE ${table} DROP CONSTRAINT "${row.conname}"`);
    await pool.query(
      `INSERT INTO ${table} (source_id, chunk_index, record_id, fingerprint, content_hash, source_version, embedded_at, tenant, metadata, text, embedding)
       VALUES ('rogue', 0, 'rogue#0', $1, 'h', 1, now(), NULL, '{}', 'rogue', $2::vector)`,
      [v2.fingerprint, `[${new Array(16).fill(0.1).join(',')}]`],
    );
    expect((await checkOf('fingerprint'))?.status).toBe('alert');
    // Never served, even as the best match: the row is the query's own vector in another space.
    const [query] = await (await app.embedders.get(v1)).embed(['beta document about migrations'], {
      inputType: 'query',
    });
    await pool.query(`UPDATE ${table} SET embedding = $1::vector WHERE source_id = 'rogue'`, [
      `[${Array.from(query as Float32Array).join(',')}]`,
    ]);
    const { hits, trace } = await app.search('docs', { text: 'beta document about migrations', k: 5 });
    expect(hits.map((h) => h.sourceId)).toEqual(['b', 'a']);
    expect(trace.mixedVersion).toBe(false);
    expect(trace.fingerprints).toEqual([v1.fingerprint]);
  });
});
