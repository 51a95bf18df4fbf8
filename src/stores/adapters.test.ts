import { testAdapterRepository } from '../testing/adapter-suite.js';
import { openPgBackend } from './pg/backend.js';
import { qualified } from './pg/sql.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from './pg/test-support.js';
import { openSqliteBackend } from './sqlite/backend.js';

testAdapterRepository({
  name: 'sqlite',
  create: async () => {
    const backend = await openSqliteBackend({ path: ':memory:' });
    return {
      adapters: backend.adapters,
      catalog: backend.catalog,
      async corruptWeights(fingerprint, bytes) {
        backend.db
          .prepare('UPDATE adapters SET weights = ? WHERE fingerprint = ?')
          .run(Buffer.from(bytes), fingerprint);
      },
      cleanup: () => backend.close(),
    };
  },
});

testAdapterRepository({
  name: 'pg',
  ...(PG_URL ? {} : { skip: PG_SKIP_LINE }),
  create: async () => {
    const schema = uniqueSchema();
    const backend = await openPgBackend({
      url: PG_URL as string,
      schema,
      dropSchemaOnClose: true,
      poolMax: 2,
    });
    return {
      adapters: backend.adapters,
      catalog: backend.catalog,
      async corruptWeights(fingerprint, bytes) {
        await backend.pool.query(
          `UPDATE ${qualified(schema, 'adapters')} SET weights = $1 WHERE fingerprint = $2`,
          [Buffer.from(bytes), fingerprint],
        );
      },
      cleanup: () => backend.close(),
    };
  },
});
