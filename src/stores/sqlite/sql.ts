import type { StatementCache } from './statements.js';

/**
 * The vector store's statements, as plain strings (printable, testable). Record rows are filtered by the
 * namespace's fingerprint and dimension when loaded for search, so a foreign row can never be compared
 * with a query (invariant 2) even if something wrote it behind the store's back.
 */
export const STORE_SQL = {
  meta: `SELECT name, fingerprint, space_name, dimension, metric, generation, created_at, removed
    FROM ns_meta WHERE name = ?`,
  insertMeta: `INSERT INTO ns_meta (name, fingerprint, space_name, dimension, metric, generation, created_at)
    VALUES (?, ?, ?, ?, ?, 0, ?)`,
  bumpGeneration: `UPDATE ns_meta SET generation = generation + 1, removed = removed + ? WHERE name = ?
    RETURNING generation`,
  spaceName: 'SELECT name FROM spaces WHERE fingerprint = ?',

  head: 'SELECT source_id, source_version, content_hash, deleted FROM heads WHERE namespace = ? AND source_id = ?',
  // Many heads in one statement: the ids come as one JSON array, each looked up on the primary key.
  headsIn: `SELECT source_id, source_version, content_hash, deleted FROM heads
    WHERE namespace = ? AND source_id IN (SELECT value FROM json_each(?))`,
  upsertHead: `INSERT INTO heads (namespace, source_id, source_version, content_hash, deleted) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (namespace, source_id) DO UPDATE SET source_version = excluded.source_version,
      content_hash = excluded.content_hash, deleted = excluded.deleted`,
  scanHeads: `SELECT source_id, source_version, content_hash, deleted FROM heads
    WHERE namespace = ? AND source_id > ? ORDER BY source_id LIMIT ?`,

  // The removed keys tell an ANN index which entries to drop.
  deleteSourceRecords: 'DELETE FROM records WHERE namespace = ? AND source_id = ? RETURNING key',
  insertRecord: `INSERT INTO records (namespace, record_id, source_id, chunk_index, fingerprint, content_hash,
    source_version, embedded_at, tenant, metadata, text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  // Capacity hint for loading: counted on the (namespace, source_id) index, without reading the rows.
  countRecords: 'SELECT COUNT(*) FROM records INDEXED BY records_by_source WHERE namespace = ?',
  loadSearchable: `SELECT key, source_id, tenant, metadata, vector FROM records
    WHERE namespace = ? AND fingerprint = ? AND length(vector) = ?`,
  scanSearchable: `SELECT key, tenant, metadata, vector FROM records
    WHERE namespace = ? AND fingerprint = ? AND length(vector) = ?`,
  // Details of a hit, by key; the namespace and fingerprint come back so the caller can check them.
  hitDetails: `SELECT namespace, record_id, source_id, fingerprint, content_hash, source_version, embedded_at,
    tenant, metadata, text FROM records WHERE key = ?`,
  // An ANN candidate, only when the row is a searchable record of the namespace: the vector to rescore it
  // and the details of a hit (unfiltered searches ask for few candidates, so one read serves both)...
  candidate: `SELECT vector, record_id, source_id, content_hash, source_version, embedded_at, tenant, metadata, text
    FROM records WHERE key = ? AND namespace = ? AND fingerprint = ? AND length(vector) = ?`,
  // ...or, when a filter may need many candidates, what the filter and rescoring need (details come after).
  filteredCandidate: `SELECT vector, tenant, metadata FROM records
    WHERE key = ? AND namespace = ? AND fingerprint = ? AND length(vector) = ?`,
  // Searchable records with keys above a high-water mark, in key order: the table's own b-tree range
  // (NOT INDEXED keeps the planner off the namespace indexes, which would visit every record).
  searchableAfter: `SELECT key, vector FROM records NOT INDEXED
    WHERE key > ? AND namespace = ? AND fingerprint = ? AND length(vector) = ? ORDER BY key`,
  // One slice of a build that yields between slices (`SearchRegistry.buildInSlices`).
  searchableSlice: `SELECT key, vector FROM records NOT INDEXED
    WHERE key > ? AND namespace = ? AND fingerprint = ? AND length(vector) = ? ORDER BY key LIMIT ?`,
  // Every key of a namespace, from the (namespace, source_id) index alone.
  namespaceKeys: 'SELECT key FROM records INDEXED BY records_by_source WHERE namespace = ?',

  annRow: `SELECT namespace, file, fingerprint, incarnation, generation, high_key, removed, count, bytes, params, keys,
    saved_at FROM ann_indexes WHERE namespace = ?`,
  annFiles: 'SELECT file FROM ann_indexes',
  upsertAnnRow: `INSERT INTO ann_indexes (namespace, file, fingerprint, incarnation, generation, high_key, removed,
      count, bytes, params, keys, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (namespace) DO UPDATE SET file = excluded.file, fingerprint = excluded.fingerprint,
      incarnation = excluded.incarnation, generation = excluded.generation, high_key = excluded.high_key,
      removed = excluded.removed,
      count = excluded.count, bytes = excluded.bytes, params = excluded.params, keys = excluded.keys,
      saved_at = excluded.saved_at`,

  upsertCheckpoint: `INSERT INTO checkpoints (job_id, namespace, cursor, processed, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (job_id) DO UPDATE SET namespace = excluded.namespace, cursor = excluded.cursor,
      processed = excluded.processed, updated_at = excluded.updated_at`,
  checkpoint: 'SELECT job_id, namespace, cursor, processed, updated_at FROM checkpoints WHERE job_id = ?',

  statsTotals:
    'SELECT COUNT(*) AS records, COUNT(DISTINCT source_id) AS sources FROM records WHERE namespace = ?',
  statsTombstones: 'SELECT COUNT(*) AS n FROM heads WHERE namespace = ? AND deleted = 1',
  // Both distributions in one pass over the namespace's rows (each visit reads a record's row).
  statsSpaces: `SELECT fingerprint, length(vector) / 4 AS dimension, COUNT(*) AS n FROM records
    WHERE namespace = ? GROUP BY fingerprint, length(vector) / 4`,

  dropRecords: 'DELETE FROM records WHERE namespace = ?',
  dropHeads: 'DELETE FROM heads WHERE namespace = ?',
  dropCheckpoints: 'DELETE FROM checkpoints WHERE namespace = ?',
  dropMeta: 'DELETE FROM ns_meta WHERE name = ?',
  dropAnn: 'DELETE FROM ann_indexes WHERE namespace = ? RETURNING file',
} as const;

/**
 * Whether anything changed since the last call, as one value: this connection's row changes (committed or
 * not, through any repository) with other connections' and processes' commits (`data_version`). The
 * catalog reuses its lookups while it stays the same.
 */
export function changeStamp(statements: StatementCache): string {
  const [changes, version] = statements
    .get('SELECT total_changes(), data_version FROM pragma_data_version')
    .raw()
    .get() as [number, number];
  return `${changes}:${version}`;
}
