import { describe, expect, it } from 'vitest';
import {
  and,
  filterPredicate,
  headsAfter,
  inList,
  metadataTokens,
  sqlNumber,
  sqlString,
  staleChunks,
} from './sql.js';

describe('lancedb predicates', () => {
  it('quotes string literals by doubling single quotes only', () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString('back\\slash')).toBe("'back\\slash'");
    expect(sqlString("'; DROP TABLE x; --")).toBe("'''; DROP TABLE x; --'");
    expect(() => sqlNumber(1.5)).toThrow(TypeError);
  });

  it('builds IN lists, conjunctions and keyset scans', () => {
    expect(inList('source_id', [])).toBe('false');
    expect(inList('source_id', ['a', "b'c"])).toBe("source_id IN ('a', 'b''c')");
    expect(and('a = 1', null, undefined, '', 'b = 2')).toBe('(a = 1) AND (b = 2)');
    expect(and()).toBe('true');
    expect(headsAfter(undefined)).toBe("(kind = 'head')");
    expect(headsAfter("o'q")).toBe("(kind = 'head') AND (source_id > 'o''q')");
    expect(staleChunks(new Map())).toBeNull();
    expect(staleChunks(new Map([['a', 3]]))).toBe(
      "(kind = 'chunk') AND ((source_id = 'a' AND source_version < 3))",
    );
  });

  it('tokenises scalar metadata with types kept apart, and skips nested or non-finite values', () => {
    expect(metadataTokens({ s: '3', n: 3, b: true, o: { x: 1 }, a: [1], z: null, inf: Infinity })).toEqual([
      '["s","3"]',
      '["n",3]',
      '["b",true]',
    ]);
  });

  it('compiles filters to engine predicates', () => {
    expect(filterPredicate(undefined)).toBeNull();
    expect(filterPredicate({})).toBeNull();
    expect(
      filterPredicate({
        tenant: "o'q",
        metadata: { lang: 'en', year: { $in: [2020, 2021] }, none: { $in: [] } },
      }),
    ).toBe(
      `(tenant = 'o''q') AND (array_has(meta_kv, '["lang","en"]')) AND ` +
        `(array_has_any(meta_kv, make_array('["year",2020]', '["year",2021]'))) AND (false)`,
    );
  });
});
