import { describe, expect, it } from 'vitest';
import { ReembedError } from '../../core/errors.js';
import { systemClock } from '../../ports/clock.js';
import { adaptersSql } from './adapters.js';
import { apiKeysSql } from './api-keys.js';
import { catalogSql } from './catalog-sql.js';
import { coverageSamplesDdl, coverageSamplesSql } from './coverage-samples.js';
import { pgDialect, sqliteDialect } from './dialect.js';
import { driveSync, exec, rows, type SqlStatement, type SqlWork } from './executor.js';
import { goldenDdl, goldenSql } from './golden.js';
import { jobsSql } from './jobs.js';
import { migrationsSql } from './migrations.js';
import { probesDdl, probesSql } from './probes.js';
import { SQL_COMPONENTS } from './repositories.js';
import { audit, bulkColumns, insertRows, optionalParams } from './statements.js';
import { trafficDdl, trafficSql } from './traffic.js';

const collect = <T>(work: SqlWork<T>, answer: (s: SqlStatement) => unknown = () => []) => {
  const seen: SqlStatement[] = [];
  const value = driveSync(work, (s) => {
    seen.push(s);
    return answer(s);
  });
  return { seen, value };
};

describe('SQL dialects', () => {
  it('qualify tables and number parameters on PostgreSQL only', () => {
    const pg = pgDialect('tenant_a');
    const lite = sqliteDialect();
    expect(pg.table('golden_sets')).toBe('"tenant_a"."golden_sets"');
    expect(lite.table('golden_sets')).toBe('golden_sets');
    expect(pg.params(3, 2)).toBe('$2, $3, $4');
    expect(lite.params(3)).toBe('?, ?, ?');
    expect(() => pgDialect('Robert"; DROP')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('build the golden and probe statements per dialect', () => {
    const pg = goldenSql(pgDialect('tenant_a'));
    const lite = goldenSql(sqliteDialect());
    expect(pg.selectSetForUpdate).toMatch(/WHERE name = \$1 FOR UPDATE$/);
    expect(lite.selectSetForUpdate).toMatch(/WHERE name = \?$/);
    expect(pg.selectQrels).toContain('ORDER BY query_id COLLATE "C", doc_id COLLATE "C"');
    expect(lite.selectQrels).toContain('ORDER BY query_id, doc_id');
    expect(pg.lockName).toContain('pg_advisory_xact_lock');
    expect(lite.lockName).toBeNull();
    expect(probesSql(pgDialect('tenant_a')).insertSet).toContain('$10');
    for (const ddl of [...goldenDdl(pgDialect('tenant_a')), ...probesDdl(pgDialect('tenant_a'))]) {
      expect(ddl).toContain('"tenant_a".');
      expect(ddl).not.toContain('WITHOUT ROWID');
    }
    expect(goldenDdl(sqliteDialect())[2]).toMatch(/WITHOUT ROWID$/);
    expect(probesDdl(sqliteDialect())[0]).toContain('params TEXT NOT NULL');
    expect(probesDdl(pgDialect('s'))[0]).toContain('params jsonb NOT NULL');
  });
});

describe('insertRows', () => {
  const columns = [
    { name: 'a', pgType: 'text' },
    { name: 'b', pgType: 'integer' },
  ];
  const values = [
    ['x', 1],
    ['y', 2],
    ['z', null],
  ];

  it('writes every row in one unnest statement on PostgreSQL, one array per column', () => {
    const { seen } = collect(insertRows(pgDialect('s'), 't', columns, values));
    expect(seen).toHaveLength(1);
    expect(seen[0]?.text).toBe('INSERT INTO "s"."t" (a, b) SELECT * FROM unnest($1::text[], $2::integer[])');
    expect(seen[0]?.params).toEqual([
      ['x', 'y', 'z'],
      [1, 2, null],
    ]);
  });

  it('runs one statement per row on SQLite, and nothing for no rows', () => {
    const { seen } = collect(insertRows(sqliteDialect(), 't', columns, values));
    expect(seen.map((s) => s.params)).toEqual(values);
    expect(new Set(seen.map((s) => s.text))).toEqual(new Set(['INSERT INTO t (a, b) VALUES (?, ?)']));
    expect(collect(insertRows(sqliteDialect(), 't', columns, [])).seen).toEqual([]);
  });

  it('reads bulk columns written as SQL, types of more than one word included', () => {
    expect(bulkColumns('set_name text, position integer,grade double precision')).toEqual([
      { name: 'set_name', pgType: 'text' },
      { name: 'position', pgType: 'integer' },
      { name: 'grade', pgType: 'double precision' },
    ]);
    expect(optionalParams('a', null)).toEqual(['a', 'a', null, null]);
  });

  it('audits in the dialect of the executor', () => {
    const { seen } = collect(audit(pgDialect('s'), systemClock, 'ann', 'x.save', 'n', { k: 1 }));
    expect(seen[0]?.text).toContain('INSERT INTO "s"."audit_log"');
    expect(seen[0]?.params.slice(1)).toEqual(['ann', 'x.save', 'n', '{"k":1}']);
  });
});

describe('driveSync', () => {
  it('answers each statement in order and returns the work value', () => {
    const work = function* (): SqlWork<number> {
      const found = yield* rows<{ n: number }>('SELECT n', []);
      const changed = yield* exec('UPDATE', [found[0]?.n]);
      return changed * 10;
    };
    const { seen, value } = collect(work(), (s) => (s.result === 'rows' ? [{ n: 7 }] : 3));
    expect(seen.map((s) => [s.text, s.result])).toEqual([
      ['SELECT n', 'rows'],
      ['UPDATE', 'changes'],
    ]);
    expect(seen[1]?.params).toEqual([7]);
    expect(value).toBe(30);
  });

  it('throws a failed statement into the work, which may catch it', () => {
    const work = function* (): SqlWork<string> {
      try {
        yield* exec('INSERT dup');
        return 'inserted';
      } catch (error) {
        return `caught ${(error as Error).message}`;
      }
    };
    const fail = () => {
      throw new Error('UNIQUE constraint failed');
    };
    expect(collect(work(), fail).value).toBe('caught UNIQUE constraint failed');
    expect(() => collect(exec('INSERT dup'), fail)).toThrow('UNIQUE constraint failed');
  });
});

describe('traffic and coverage statements', () => {
  it('merge a held traffic minute by key and upsert coverage samples on both dialects', () => {
    for (const d of [pgDialect('tenant_a'), sqliteDialect()]) {
      expect(trafficSql(d).insert).toContain('ON CONFLICT (minute, alias, namespace, role) DO NOTHING');
      expect(coverageSamplesSql(d).onConflict).toContain('ON CONFLICT (namespace, at) DO UPDATE');
    }
    expect(trafficSql(pgDialect('t')).selectForUpdate).toMatch(/role = \$4 FOR UPDATE$/);
    expect(trafficSql(sqliteDialect()).read).toContain('(? IS NULL OR collection = ?)');
    expect(coverageSamplesSql(pgDialect('t')).read).toContain('($1::timestamptz IS NULL OR at >= $2)');
    for (const ddl of [...trafficDdl(pgDialect('tenant_a')), ...coverageSamplesDdl(pgDialect('tenant_a'))])
      expect(ddl).toContain('"tenant_a".');
    expect(trafficDdl(sqliteDialect())[0]).toMatch(/WITHOUT ROWID$/);
  });
});

describe('components', () => {
  it('each has a unique name and installs its own DDL in the executor dialect, recording its version', async () => {
    expect(new Set(SQL_COMPONENTS.map((c) => c.name)).size).toBe(SQL_COMPONENTS.length);
    for (const component of SQL_COMPONENTS) {
      const calls: unknown[][] = [];
      const d = pgDialect('tenant_a');
      const db = { dialect: d, ensureSchema: async (...args: unknown[]) => void calls.push(args) };
      expect(await component.install(db as never)).toBe(db);
      expect(calls).toEqual([[component.name, component.version, component.ddl(d)]]);
      expect(component.ddl(d).every((statement) => statement.includes('"tenant_a".'))).toBe(true);
    }
  });
});

describe('parameter order', () => {
  it('every statement numbers its parameters in textual order, each once (SQLite binds `?` by position)', () => {
    const d = pgDialect('s');
    const builders = [
      adaptersSql(d),
      catalogSql(d),
      goldenSql(d),
      probesSql(d),
      apiKeysSql(d),
      trafficSql(d),
      coverageSamplesSql(d),
      jobsSql(d),
      migrationsSql(d),
    ];
    const texts = builders.flatMap((b) =>
      Object.values(b).flatMap((v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : [])),
    );
    texts.push(migrationsSql(d).quantile('served_ms'));
    expect(texts.length).toBeGreaterThan(20);
    for (const text of texts) {
      const numbers = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
      expect(numbers, text).toEqual(numbers.map((_, i) => i + 1));
    }
  });
});

describe('catalog statements', () => {
  it('lock rows on PostgreSQL only, and match audit patterns with LIKE or GLOB, `*` the only wildcard', () => {
    const pg = pgDialect('tenant_a');
    const lite = sqliteDialect();
    expect(catalogSql(pg).updateAlias).toContain('UPDATE "tenant_a"."aliases"');
    expect(catalogSql(pg).updateAlias).toContain('WHERE name = $4 AND version = $5');
    expect(catalogSql(pg).aliasForUpdate).toMatch(/FOR UPDATE$/);
    expect(catalogSql(lite).aliasForUpdate).toBe('SELECT * FROM aliases WHERE name = ?');
    expect(catalogSql(pg).namespaceOwners).toContain('name = ANY($1::text[]) FOR SHARE');
    expect(catalogSql(lite).audit).toContain('subject GLOB ?');
    expect(catalogSql(pg).audit).toContain('subject LIKE $2');
    expect(pg.wildcard('a_b%c\\d*')).toBe('a\\_b\\%c\\\\d%');
    expect(lite.wildcard('a[b]?c*')).toBe('a[[]b][?]c*');
  });
});

describe('uniqueViolation', () => {
  const failed = (code: string) =>
    new ReembedError('STORE_FAILED', 'the store failed', { cause: Object.assign(new Error('x'), { code }) });

  it('recognises each driver’s unique-constraint failure through the STORE_FAILED wrapper, and nothing else', () => {
    expect(sqliteDialect().uniqueViolation(failed('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(sqliteDialect().uniqueViolation(failed('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(true);
    expect(sqliteDialect().uniqueViolation(failed('SQLITE_BUSY'))).toBe(false);
    expect(pgDialect('s').uniqueViolation(failed('23505'))).toBe(true);
    expect(pgDialect('s').uniqueViolation(failed('40001'))).toBe(false);
    expect(pgDialect('s').uniqueViolation(new Error('no code'))).toBe(false);
  });
});
