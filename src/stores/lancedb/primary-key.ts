import type { LanceTableLike } from './lance-types.js';

/**
 * Declares `column` the table's (unenforced) primary key, once. LanceDB then detects two concurrent
 * `mergeInsert`s inserting the same new key as a conflict and retries one of them against the other's
 * commit, instead of committing both rows (which it does without a primary key).
 */
export async function ensurePrimaryKey(table: LanceTableLike, column: string): Promise<void> {
  if (await hasPrimaryKey(table, column)) return;
  try {
    await table.setUnenforcedPrimaryKey(column);
  } catch (error) {
    // Another process may have set it between our check and our call; anything else is a real failure.
    if (!(await hasPrimaryKey(table, column))) throw error;
  }
}

async function hasPrimaryKey(table: LanceTableLike, column: string): Promise<boolean> {
  const field = (await table.schema()).fields.find((f) => f.name === column);
  return [...(field?.metadata.keys() ?? [])].some((key) =>
    key.startsWith('lance-schema:unenforced-primary-key'),
  );
}
