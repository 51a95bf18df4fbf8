import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import { assertReusable } from '../shared/namespace-checks.js';
import type { PgQueryable } from './pool.js';
import { dropNamespaceDdl, hnswIndexDdl, namespaceDdl, namespaceTable, qualified } from './sql.js';
import * as R from './sql-records.js';
import { descriptorOf, type MetaRow } from './store-rows.js';

/**
 * DDL operations on one namespace, inside the caller's transaction. Each first takes an advisory lock on
 * `schema:namespace`, so processes creating, dropping or indexing the same namespace run one at a time
 * (CREATE TABLE IF NOT EXISTS alone races on the catalog's unique keys).
 */
export async function createNamespaceTables(
  tx: PgQueryable,
  settings: { schema: string; hnsw: { m: number; efConstruction: number; deferred: boolean } },
  descriptor: NamespaceDescriptor,
  now: string,
): Promise<void> {
  const { schema, hnsw } = settings;
  await tx.query(R.namespaceLockSql(), [`${schema}:${descriptor.name}`]);
  const held = (await tx.query<MetaRow>(R.metaSql(schema), [descriptor.name])).rows[0];
  if (held) {
    assertReusable(descriptorOf(held), descriptor);
    return;
  }
  for (const statement of namespaceDdl({ schema, namespace: descriptor.name, ...descriptor, hnsw })) {
    await tx.query(statement);
  }
  await tx.query(R.insertMetaSql(schema), [
    descriptor.name,
    R.tableNameOf(descriptor.name),
    descriptor.fingerprint,
    descriptor.spaceName,
    descriptor.dimension,
    descriptor.metric,
    hnsw.m,
    hnsw.efConstruction,
    now,
  ]);
}

/** Drops records, heads (tombstones included), checkpoints and the descriptor. Idempotent. */
export async function dropNamespaceTables(tx: PgQueryable, schema: string, name: string): Promise<void> {
  await tx.query(R.namespaceLockSql(), [`${schema}:${name}`]);
  // Writers lock the descriptor row (FOR SHARE) before touching the tables; taking it here first keeps
  // the same lock order, so a drop waits for in-flight writes instead of deadlocking with them.
  await tx.query(`${R.metaSql(schema)} FOR UPDATE`, [name]);
  for (const statement of dropNamespaceDdl(schema, name)) await tx.query(statement);
  await tx.query(R.deleteCheckpointsSql(schema), [name]);
  await tx.query(R.deleteMetaSql(schema), [name]);
}

/**
 * Bytes of pgvector's in-memory HNSW graph per row: the vector (4 bytes per dimension), the layer-0
 * neighbour array (2m candidates of 16 bytes) and the element's bookkeeping, with a 15% margin. Measured:
 * 384-d at m 16 spills `maintenance_work_mem` = 16 MB after 7,239 rows, 2,318 bytes each (formula: 2,723).
 */
export function hnswGraphBytes(rows: number, dimension: number, m: number): number {
  return Math.ceil(rows * (4 * dimension + 32 * m + 320) * 1.15);
}

/**
 * Builds the HNSW index with the parameters recorded when the namespace was created. Idempotent. Below
 * the graph's size in `maintenance_work_mem` pgvector spills and the build slows down several-fold (at
 * 1M x 384 and 512 MB it had inserted 437k rows after 44 minutes), so this transaction sizes the setting
 * to the namespace's graph (`hnswGraphBytes` of its row count), at least 64 MB and at most `ceilingMB`,
 * and never lower than the session's own setting.
 * A per-session setting, no privilege; a parallel build reserves it as shared memory up front, which is
 * why it is sized rather than set to the ceiling.
 */
export async function buildNamespaceIndex(
  tx: PgQueryable,
  schema: string,
  meta: MetaRow,
  ceilingMB: number,
): Promise<void> {
  await tx.query(R.namespaceLockSql(), [`${schema}:${meta.name}`]);
  const descriptor = descriptorOf(meta);
  const table = qualified(schema, namespaceTable(meta.name));
  const counted = await tx.query<{ n: string; held: string }>(
    `SELECT count(*) AS n, pg_size_bytes(current_setting('maintenance_work_mem')) AS held FROM ${table}`,
  );
  const rows = Number(counted.rows[0]?.n ?? 0);
  const heldMB = Math.floor(Number(counted.rows[0]?.held ?? 0) / 2 ** 20);
  const graphMB = Math.ceil(hnswGraphBytes(rows, descriptor.dimension, meta.hnsw_m) / 2 ** 20);
  // Never below what the session already has (a role or server setting the operator chose).
  const memoryMB = Math.max(heldMB, Math.min(ceilingMB, Math.max(64, graphMB)));
  await tx.query("SELECT set_config('maintenance_work_mem', $1, true)", [`${memoryMB}MB`]);
  const hnsw = { m: meta.hnsw_m, efConstruction: meta.hnsw_ef_construction };
  await tx.query(hnswIndexDdl({ schema, namespace: meta.name, ...descriptor, hnsw }));
}
