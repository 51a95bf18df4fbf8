/**
 * What the invariant-2 guard of a PostgreSQL search costs: its per-query settings statement now also reads
 * the records table's declared vector dimension (one `pg_attribute` lookup), to pick the dimension-guarded
 * statement for a table edited by hand. Times the settings round trip (BEGIN, settings, COMMIT) with and
 * without that lookup, alternated, and prints the medians.
 *
 * Usage: REEMBED_PG_URL=... npx tsx bench/pg-search-guard.ts [rounds=3000]
 */
import { defineSpace } from '../src/core/space.js';
import { openPgBackend } from '../src/stores/pg/backend.js';
import type { PgClientLike } from '../src/stores/pg/pool.js';
import { qualified } from '../src/stores/pg/sql.js';
import { searchSettingsSql } from '../src/stores/pg/sql-records.js';
import { requireUrl } from './pg-common.js';

const rounds = Number(process.argv[2] ?? 3000);
const schema = `bench_guard_${process.pid}`;
const backend = await openPgBackend({ url: requireUrl(), schema, dropSchemaOnClose: true, poolMax: 2 });
try {
  const space = defineSpace('s', { provider: 'bench', model: 'm', dimension: 384 });
  await backend.store.createNamespace({
    name: 'docs@s',
    fingerprint: space.fingerprint,
    spaceName: 's',
    dimension: 384,
    metric: 'cosine',
  });
  const meta = await backend.pool.query<{ table_name: string }>(
    `SELECT table_name FROM ${qualified(schema, 'ns_meta')} WHERE name = 'docs@s'`,
  );
  const table = meta.rows[0]?.table_name as string;
  const without = searchSettingsSql(schema, { iterativeScan: false });
  const withGuard = searchSettingsSql(schema, { iterativeScan: false, table });
  const params = ['docs@s', '40', 'on'];
  const client: PgClientLike = await backend.pool.connect();
  const time = async (sql: string): Promise<number> => {
    const started = performance.now();
    await client.query('BEGIN');
    await client.query(sql, params);
    await client.query('COMMIT');
    return performance.now() - started;
  };
  for (let i = 0; i < 200; i++) {
    await time(without);
    await time(withGuard);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await time(without));
    b.push(await time(withGuard));
  }
  client.release();
  const median = (xs: number[]): number => xs.sort((x, y) => x - y)[xs.length >> 1] as number;
  console.log(
    JSON.stringify({
      rounds,
      settingsMs: Number(median(a).toFixed(3)),
      settingsWithDimensionLookupMs: Number(median(b).toFixed(3)),
    }),
  );
} finally {
  await backend.close();
}
