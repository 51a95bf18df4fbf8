import { ReembedError } from '../../core/errors.js';
import type { SqliteDatabase } from './schema.js';

/** Registers this component's schema version (refusing a newer one) and creates the tables. */
export function applyComponentSchema(
  db: SqliteDatabase,
  component: string,
  version: number,
  ddl: string[],
  now: string,
): void {
  db.transaction(() => {
    for (const statement of ddl) db.exec(statement);
    const row = db.prepare('SELECT version FROM schema_version WHERE component = ?').get(component) as
      | { version: number }
      | undefined;
    if (row && row.version > version) {
      throw new ReembedError(
        'STORE_FAILED',
        `The ${component} tables were written by a newer reembed (schema ${row.version}, this build knows ${version}). Upgrade reembed.`,
        { details: { component, found: row.version, supported: version } },
      );
    }
    if (!row)
      db.prepare('INSERT INTO schema_version (component, version, applied_at) VALUES (?, ?, ?)').run(
        component,
        version,
        now,
      );
  }).immediate();
}
