import { ReembedError } from '../../core/errors.js';
import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import type { PgQueryable } from './pool.js';
import { dropNamespaceDdl, hnswIndexDdl, namespaceDdl } from './sql.js';
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
    const d = descriptorOf(held);
    const same =
      d.fingerprint === descriptor.fingerprint &&
      d.spaceName === descriptor.spaceName &&
      d.dimension === descriptor.dimension &&
      d.metric === descriptor.metric;
    if (same) return;
    throw new ReembedError(
      'SPACE_MISMATCH',
      `Namespace "${descriptor.name}" already exists for space ${d.spaceName} (${d.fingerprint}, ${d.dimension}d ${d.metric}); refusing to reuse it for ${descriptor.spaceName} (${descriptor.fingerprint}, ${descriptor.dimension}d ${descriptor.metric}). A new space needs a new namespace.`,
      { details: { namespace: descriptor.name, expected: d.fingerprint, actual: descriptor.fingerprint } },
    );
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
 * Builds the HNSW index with the parameters recorded when the namespace was created. Idempotent. The
 * graph of 100k x 384 vectors is ~200 MB; with Postgres' default 64 MB of maintenance_work_mem the build
 * spills and slows down several-fold, so this transaction raises it (a per-session setting, no privilege).
 */
export async function buildNamespaceIndex(
  tx: PgQueryable,
  schema: string,
  meta: MetaRow,
  maintenanceWorkMem = '512MB',
): Promise<void> {
  await tx.query(R.namespaceLockSql(), [`${schema}:${meta.name}`]);
  await tx.query("SELECT set_config('maintenance_work_mem', $1, true)", [maintenanceWorkMem]);
  const hnsw = { m: meta.hnsw_m, efConstruction: meta.hnsw_ef_construction };
  await tx.query(hnswIndexDdl({ schema, namespace: meta.name, ...descriptorOf(meta), hnsw }));
}
