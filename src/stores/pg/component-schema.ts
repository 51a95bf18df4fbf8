import { ReembedError } from '../../core/errors.js';
import { type PgPoolLike, withTransaction } from './pool.js';
import { advisoryLockSql, qualified } from './sql.js';

/**
 * Creates a component's tables idempotently under the schema's advisory lock (processes may start
 * together) and records its version, refusing tables written by a newer reembed.
 */
export async function applyComponentSchema(
  pool: PgPoolLike,
  schema: string,
  component: string,
  version: number,
  ddl: readonly string[],
): Promise<void> {
  await withTransaction(pool, `prepare the ${component} tables`, async (tx) => {
    await tx.query(advisoryLockSql(), [`reembed:schema:${schema}`]);
    for (const statement of ddl) await tx.query(statement);
    const table = qualified(schema, 'schema_version');
    const { rows } = await tx.query<{ version: number }>(
      `SELECT version FROM ${table} WHERE component = $1`,
      [component],
    );
    const found = rows[0]?.version;
    if (found !== undefined && found > version) {
      throw new ReembedError(
        'STORE_FAILED',
        `The ${component} tables of schema "${schema}" were written by a newer reembed (schema ${found}, this build knows ${version}). Upgrade reembed.`,
        { details: { component, found, supported: version } },
      );
    }
    if (found === undefined)
      await tx.query(`INSERT INTO ${table} (component, version) VALUES ($1, $2)`, [component, version]);
  });
}
