import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import { normalizeInPlace } from '../../core/vector.js';
import {
  encodeIntArray,
  encodeTextArray,
  encodeVector,
  encodeVectorArray,
  INT4_OID,
  INT8_OID,
} from './codec.js';
import { redactUrl, resolvePgConfig } from './config.js';
import { planPgNamespace } from './plan.js';
import { isoText } from './pool.js';
import {
  baseDdl,
  dropNamespaceDdl,
  ident,
  literal,
  metricOps,
  namespaceDdl,
  namespaceTable,
  planDdl,
  scoreExpression,
} from './sql.js';
import { sourcesSql } from './sql-catalog.js';
import {
  advanceHeadsSql,
  CONCURRENT_WRITE_MARKER,
  insertRecordsSql,
  searchSettingsParams,
  searchSettingsSql,
  searchSql,
  writeSql,
} from './sql-records.js';
import { hnswGraphBytes } from './store-namespaces.js';
import { rounds, roundWrites, textOfSourceOf, writeStatementParams } from './write-plan.js';

/** Pure tests of the SQL builders and codecs: they run without a server (STYLE.md #6). */
const input = {
  schema: 'reembed',
  namespace: 'docs@hashing-v1',
  fingerprint: 'sp_0123456789abcdef',
  dimension: 384,
  metric: 'l2' as const,
  hnsw: { m: 24, efConstruction: 100 },
};
const ref = { schema: 'reembed', namespace: 'docs@hashing-v1' };

describe('identifiers and literals', () => {
  it('quotes valid identifiers and refuses anything that could escape them', () => {
    expect(ident('reembed')).toBe('"reembed"');
    for (const bad of ['Reembed', 'a"b', 'a b', '1abc', '', 'x'.repeat(64), 'a;drop']) {
      expect(() => ident(bad)).toThrow(ReembedError);
    }
  });

  it('accepts only a safe alphabet in DDL literals', () => {
    expect(literal('sp_0123abc')).toBe("'sp_0123abc'");
    expect(() => literal("x' OR '1'='1")).toThrow(ReembedError);
  });

  it('names namespace tables readably, within 63 bytes, apart for names that sanitise alike', () => {
    const a = namespaceTable('docs@v1.0');
    const b = namespaceTable('docs@v1-0');
    expect(a).toMatch(/^ns_docs_v1_0_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(namespaceTable('docs@v1.0')).toBe(a);
    const long = namespaceTable(`${'c'.repeat(63)}@${'s'.repeat(63)}`);
    expect(`${long}_heads`.length).toBeLessThanOrEqual(63);
    expect(`${long}_hnsw`.length).toBeLessThanOrEqual(63);
  });
});

describe('DDL', () => {
  it('pins fingerprint and dimension in the namespace table and builds the HNSW index per metric', () => {
    const [records, storage, heads, index] = namespaceDdl(input);
    expect(records).toContain('embedding vector(384) NOT NULL');
    // Records (vector + text > 2 kB) stay inline instead of TOASTing each vector.
    expect(records).toMatch(/\) WITH \(toast_tuple_target = 8160\)$/);
    expect(storage).toMatch(
      /^ALTER TABLE "reembed"\."ns_docs_hashing_v1_[0-9a-f]{8}" ALTER COLUMN embedding SET STORAGE MAIN$/,
    );
    expect(records).toContain("CHECK (fingerprint = 'sp_0123456789abcdef')");
    expect(records).toContain('PRIMARY KEY (source_id, chunk_index)');
    expect(heads).toContain('source_id text COLLATE "C" PRIMARY KEY');
    expect(index).toMatch(/USING hnsw \(embedding vector_l2_ops\) WITH \(m = 24, ef_construction = 100\)$/);
    expect(metricOps('cosine').opclass).toBe('vector_ip_ops');
    expect(metricOps('dot')).toEqual({ opclass: 'vector_ip_ops', operator: '<#>' });
    expect(namespaceDdl({ ...input, hnsw: { ...input.hnsw, deferred: true } })).toHaveLength(3);
    expect(() => namespaceDdl({ ...input, fingerprint: "sp_x'; DROP TABLE t; --" })).toThrow(ReembedError);
    expect(() => namespaceDdl({ ...input, dimension: 0 })).toThrow(ReembedError);
  });

  it('makes the audit log append-only and one alias row per name in the base schema', () => {
    const ddl = baseDdl('reembed').join(';\n');
    expect(ddl).toContain('CREATE SCHEMA IF NOT EXISTS "reembed"');
    expect(ddl).toMatch(/BEFORE UPDATE OR DELETE ON "reembed"\."audit_log"/);
    expect(ddl).toMatch(/BEFORE TRUNCATE ON "reembed"\."audit_log"/);
    expect(ddl).toContain(
      'CREATE UNIQUE INDEX IF NOT EXISTS aliases_one_row_per_name ON "reembed"."aliases" (name)',
    );
    expect(ddl).toContain('serving_namespace text NOT NULL');
    expect(ddl).toContain("CHECK (state IN ('building', 'active', 'serving', 'retiring', 'retired'))");
  });

  it('prints a plan for --dry-run: the namespace alone, or with the base tables', () => {
    const plan = planDdl(input);
    expect(plan.split(';\n').length - 1).toBe(4);
    expect(plan).toContain(`CREATE TABLE IF NOT EXISTS "reembed"."${namespaceTable(input.namespace)}"`);
    expect(plan.trimEnd().endsWith(';')).toBe(true);
    expect(planDdl(input, { includeBase: true })).toContain('"reembed"."audit_log"');
    const descriptor = {
      name: 'docs@v2',
      fingerprint: 'sp_00ff',
      spaceName: 'v2',
      dimension: 8,
      metric: 'cosine' as const,
    };
    const deferred = planPgNamespace(
      { url: 'postgres://h/db', schema: 'prod', hnsw: { deferred: true } },
      descriptor,
    );
    expect(deferred).toContain('"prod"."ns_docs_v2_');
    expect(deferred).toContain('embedding vector(8) NOT NULL');
    expect(deferred).not.toContain('USING hnsw');
    expect(planPgNamespace({ url: 'postgres://h/db' }, descriptor)).toContain(
      'USING hnsw (embedding vector_ip_ops)',
    );
    // Heads, then records: the order a write statement locks them in.
    expect(dropNamespaceDdl('reembed', input.namespace)).toEqual([
      `DROP TABLE IF EXISTS "reembed"."${namespaceTable(input.namespace)}_heads"`,
      `DROP TABLE IF EXISTS "reembed"."${namespaceTable(input.namespace)}"`,
    ]);
  });
});

describe('record statements', () => {
  it('advances heads only for newer versions, tombstones included, and says which sources were new', () => {
    const sql = advanceHeadsSql(ref);
    expect(sql).toContain('WHERE h.source_version < EXCLUDED.source_version');
    expect(sql).toContain('RETURNING h.source_id, (xmax = 0) AS inserted');
    expect(insertRecordsSql(ref)).toContain('$9::vector[]');
  });

  it('writes a batch as one statement: guarded, gated on the snapshot head, delete before insert', () => {
    const sql = writeSql(ref, { checkpoint: true });
    const table = namespaceTable(ref.namespace);
    // The descriptor guard gates the heads and the checkpoint; a stale cache writes nothing.
    expect(sql).toContain(
      'SELECT FROM "reembed"."ns_meta" WHERE name = $13 AND fingerprint = $14 AND dimension = $15',
    );
    expect(sql).toContain('FROM src WHERE EXISTS (SELECT FROM guard)');
    expect(sql).toContain('SELECT $17, $13, $18, $19, $16 WHERE EXISTS (SELECT FROM guard)');
    // A head is advanced only if newer and still the version the statement's snapshot saw.
    expect(sql).toContain('WHERE h.source_version < EXCLUDED.source_version');
    expect(sql).toContain(
      `AND h.source_version = (SELECT seen.source_version FROM "reembed"."${table}_heads" seen WHERE seen.source_id = EXCLUDED.source_id)`,
    );
    // Heads are locked before records (the order of a drop); the insert waits for the delete.
    expect(sql.indexOf(`"${table}_heads"`)).toBeLessThan(sql.indexOf(`DELETE FROM "reembed"."${table}"`));
    expect(sql).toContain('WHERE source_id = ANY (ARRAY(SELECT source_id FROM adv WHERE NOT inserted))');
    expect(sql).toContain(
      'WHERE c.source_id IN (SELECT source_id FROM adv) AND (SELECT count(*) FROM del) >= 0',
    );
    // Records stream from the chunk arrays (unnest in the select list), not through a materialised join.
    expect(sql).toContain('FROM (SELECT unnest($4::text[]) AS source_id');
    expect(sql).not.toMatch(/JOIN (adv|src)/);
    expect(sql).toContain(`('${CONCURRENT_WRITE_MARKER}: ' || w.raced)::integer`);
    expect(sql).toContain('unnest($12::vector[])');
    const plain = writeSql(ref, { checkpoint: false });
    expect(plain).not.toContain('checkpoints');
    expect(plain).not.toMatch(/\$1[7-9]/);
    expect(plain).not.toContain('"sources"');
  });

  it('copies a NULL text from the source row at the written version, the collection as the last parameter', () => {
    const lookup = (n: number): string =>
      `coalesce(c.text, (SELECT s.text FROM "reembed"."sources" s
      WHERE s.collection = $${n} AND s.id = c.source_id AND s.version = c.source_version
        AND s.content_hash = c.content_hash AND NOT s.deleted))`;
    expect(writeSql(ref, { checkpoint: true, textOfSource: true })).toContain(lookup(20));
    const plain = writeSql(ref, { checkpoint: false, textOfSource: true });
    expect(plain).toContain(lookup(17));
    expect(plain).not.toMatch(/\$1[89]|\$20/);
  });

  it('orders by the distance operator the index serves; scores are higher-is-better', () => {
    const plain = searchSql(ref, 'cosine');
    expect(plain.text).toContain('ORDER BY embedding <#> $1::vector\nLIMIT $2');
    expect(plain.text).not.toContain('WHERE');
    expect(plain.filterValues).toEqual([]);
    expect(searchSql(ref, 'l2', {}, { exact: true }).text).toContain(
      'ORDER BY embedding <-> $1::vector, record_id',
    );
    expect(scoreExpression('l2', 'd')).toBe('-((d) ^ 2)');
    expect(scoreExpression('dot', 'd')).toBe('-(d)');
  });

  it('binds every filter value; keys never enter the SQL text', () => {
    const { text, filterValues } = searchSql(ref, 'dot', {
      tenant: 'acme',
      metadata: { "lang'": 'en', year: { $in: [2020, 2021] }, public: true },
    });
    expect(text).toContain(
      'WHERE tenant = $3 AND metadata -> $4 IN (SELECT jsonb_array_elements($5::jsonb))',
    );
    expect(text).toContain('AND metadata @> $6::jsonb');
    expect(text).not.toContain("lang'");
    expect(filterValues).toEqual(['acme', 'year', '[2020,2021]', '{"lang\'":"en","public":true}']);
  });

  it('sets ef_search per query (at least k, at most 1000) and switches index scans off for exact', () => {
    const base = { efSearch: 40, k: 10, exact: false, filtered: false, iterativeScan: true };
    expect(searchSettingsParams('ns', base)).toEqual(['ns', '40', 'on', 'off']);
    expect(searchSettingsParams('ns', { ...base, k: 200, filtered: true })).toEqual([
      'ns',
      '200',
      'on',
      'strict_order',
    ]);
    expect(searchSettingsParams('ns', { ...base, k: 5000, exact: true, iterativeScan: false })).toEqual([
      'ns',
      '1000',
      'off',
    ]);
    expect(searchSettingsSql('reembed', { iterativeScan: true })).toContain(
      "set_config('hnsw.iterative_scan', $4, true)",
    );
    expect(searchSettingsSql('reembed', { iterativeScan: false })).not.toContain('iterative_scan');
    // The records table's declared dimension, read with the settings (a column edited by hand shows -1).
    expect(searchSettingsSql('reembed', { iterativeScan: false, table: 'ns_docs_v1_f6f674f0' })).toContain(
      `(SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass('reembed.ns_docs_v1_f6f674f0') AND attname = 'embedding') AS typmod`,
    );
    expect(() => searchSettingsSql('reembed', { iterativeScan: false, table: "x'; DROP" })).toThrow();
  });

  it('builds source statements for the schema only', () => {
    expect(sourcesSql('tenant_a').lockCounter).toContain('FOR UPDATE');
    expect(() => sourcesSql('Tenant-A')).toThrow(ReembedError);
  });
});

describe('binary vector codec (pgvector wire format)', () => {
  it('encodes integer and bigint arrays in binary, negative and beyond 32 bits included', () => {
    const big = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40 + 5, -(2 ** 40) - 7, Number.MAX_SAFE_INTEGER];
    expect(decodeArray(encodeIntArray(big, INT8_OID))).toEqual(big);
    expect(decodeArray(encodeIntArray([0, 7, -3, 2 ** 31 - 1], INT4_OID))).toEqual([0, 7, -3, 2 ** 31 - 1]);
    expect(decodeArray(encodeIntArray([], INT8_OID))).toEqual([]);
  });

  it('encodes one vector as int16 dim, int16 0, big-endian float4s', () => {
    const bytes = encodeVector(Float32Array.from([1, -2.5]));
    expect([...bytes]).toEqual([0, 2, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0]);
  });

  it('encodes vector[] with the array header, element oid and per-element lengths', () => {
    const bytes = encodeVectorArray([Float32Array.from([1]), Float32Array.from([2])], 16_385);
    expect(bytes.readInt32BE(0)).toBe(1);
    expect(bytes.readInt32BE(4)).toBe(0);
    expect(bytes.readUInt32BE(8)).toBe(16_385);
    expect(bytes.readInt32BE(12)).toBe(2);
    expect(bytes.readInt32BE(16)).toBe(1);
    expect(bytes.readInt32BE(20)).toBe(8);
    expect(bytes.readFloatBE(28)).toBe(1);
    expect(bytes.readFloatBE(40)).toBe(2);
    expect(bytes.length).toBe(20 + 2 * 12);
  });

  it('encodes text[] in binary: UTF-8 elements with their byte lengths, null as SQL NULL', () => {
    const values = ['a', 'é€😀', null, ''];
    const bytes = encodeTextArray(values);
    expect(bytes.readInt32BE(4)).toBe(1); // has NULLs
    expect(bytes.readUInt32BE(8)).toBe(25);
    expect(bytes.readInt32BE(25)).toBe(9); // after "a": 2 + 3 + 4 bytes
    expect(decodeTextArray(bytes)).toEqual(values);
    expect(encodeTextArray(['x']).readInt32BE(4)).toBe(0);
    expect(decodeTextArray(encodeTextArray([]))).toEqual([]);
  });

  it('writes each vector as encodeVector does, and normalised exactly like normalizeInPlace', () => {
    const a = Float32Array.from([3, -4, 0.1]);
    const zero = new Float32Array(3);
    const body = (buffer: Buffer, i: number) => buffer.subarray(24 + i * 20, 40 + i * 20);
    const raw = encodeVectorArray([a, zero], 7);
    expect(body(raw, 0).equals(encodeVector(a))).toBe(true);
    const unit = encodeVectorArray([a, zero], 7, { normalize: true });
    expect(body(unit, 0).equals(encodeVector(normalizeInPlace(Float32Array.from(a))))).toBe(true);
    expect(body(unit, 1).equals(encodeVector(zero))).toBe(true);
    expect([...a]).toEqual([...Float32Array.from([3, -4, 0.1])]); // the caller's vector is untouched
  });
});

describe('timestamps read as text', () => {
  it('turns PostgreSQL ISO text into the instant Date#toISOString writes, at any offset', () => {
    expect(isoText('2026-11-22 05:02:10+00')).toBe('2026-11-22T05:02:10.000Z');
    expect(isoText('2026-11-22 05:02:10.1+00')).toBe('2026-11-22T05:02:10.100Z');
    expect(isoText('2026-11-22 05:02:10.123+00')).toBe('2026-11-22T05:02:10.123Z');
    // Microseconds are truncated to milliseconds, as pg's Date parsing does.
    expect(isoText('2026-11-22 05:02:10.123999+00')).toBe('2026-11-22T05:02:10.123Z');
    expect(isoText('2026-11-22 07:02:10.5+02')).toBe('2026-11-22T05:02:10.500Z');
    expect(isoText('2026-11-22 00:32:10-04:30')).toBe('2026-11-22T05:02:10.000Z');
    expect(isoText('1890-01-01 00:00:00+00:53:28')).toBe('1889-12-31T23:06:32.000Z');
    expect(isoText('0050-03-01 12:00:00+00')).toBe('0050-03-01T12:00:00.000Z');
    // Every form agrees with JavaScript's own parse of the same instant.
    for (const text of [
      '2024-02-29 23:59:59.999+00',
      '2024-02-29 23:59:59.999-11',
      '2000-01-01 00:00:00+14',
    ]) {
      const [date, time, offset] = [text.slice(0, 10), text.slice(11, 23), text.slice(23)];
      expect(isoText(text)).toBe(new Date(`${date}T${time}${offset}:00`).toISOString());
    }
    // Not a timestamp PostgreSQL writes in ISO style: unchanged.
    expect(isoText('infinity')).toBe('infinity');
    expect(isoText('2026-11-22T05:02:10.000Z')).toBe('2026-11-22T05:02:10.000Z');
  });
});

describe('write plan and config', () => {
  it('applies repeats of a source in call order (later rounds) and sorts each round by id', () => {
    const plan = rounds([
      { sourceId: 'b', v: 1 },
      { sourceId: 'a', v: 1 },
      { sourceId: 'b', v: 2 },
    ]);
    expect(plan.map((r) => r.map((x) => `${x.sourceId}${x.v}`))).toEqual([['a1', 'b1'], ['b2']]);
  });

  it('sends the gate its per-source values and every record its own row of per-chunk values', () => {
    const vector = Float32Array.from([1, 0]);
    const write = (id: string, chunks: number) => ({
      sourceId: id,
      sourceVersion: id === 'a' ? 3 : 4,
      contentHash: `h-${id}`,
      tenant: id === 'a' ? 'acme' : null,
      metadata: { lang: id },
      chunks: Array.from({ length: chunks }, (_, i) => ({
        chunkId: `${id}#${i}`,
        index: i,
        text: `t${i}`,
        vector,
      })),
    });
    const context = {
      namespace: 'ns',
      fingerprint: 'fp',
      dimension: 2,
      embeddedAt: '2026-01-01T00:00:00.000Z',
      vectorOid: 7,
      normalize: false,
    };
    const paramsOf = (writes: ReturnType<typeof write>[]) => {
      const [round] = roundWrites(writes.map((w) => ({ write: w, vectors: w.chunks.map((c) => c.vector) })));
      return writeStatementParams(round ?? [], context);
    };
    const decoded = (params: unknown[]) =>
      params.map((p, i) => (i === 11 || !Buffer.isBuffer(p) ? p : decodeArray(p)));
    const params = decoded(paramsOf([write('b', 1), write('a', 2)]));
    expect(params.slice(0, 3)).toEqual([
      ['a', 'b'],
      [3, 4],
      ['h-a', 'h-b'],
    ]);
    expect(params.slice(3, 11)).toEqual([
      ['a', 'a', 'b'],
      [0, 1, 0],
      ['a#0', 'a#1', 'b#0'],
      ['h-a', 'h-a', 'h-b'],
      [3, 3, 4],
      ['acme', 'acme', null],
      ['{"lang":"a"}', '{"lang":"a"}', '{"lang":"b"}'],
      ['t0', 't1', 't0'],
    ]);
    expect((params[11] as Buffer).readInt32BE(12)).toBe(3);
    expect(params.slice(12)).toEqual(['ns', 'fp', 2, '2026-01-01T00:00:00.000Z']);
    // One chunk per source: the per-chunk ids, hashes and versions are the per-source ones, encoded once.
    const single = paramsOf([write('b', 1), write('a', 1)]);
    expect(single[3]).toBe(single[0]);
    expect(single[6]).toBe(single[2]);
    expect(single[7]).toBe(single[1]);
    expect(decoded(single).slice(3, 11)).toEqual([
      ['a', 'b'],
      [0, 0],
      ['a#0', 'b#0'],
      ['h-a', 'h-b'],
      [3, 4],
      ['acme', null],
      ['{"lang":"a"}', '{"lang":"b"}'],
      ['t0', 't0'],
    ]);
    const checkpoint = { jobId: 'j', cursor: 'b', processed: 2 };
    const [round] = roundWrites([write('b', 1)].map((w) => ({ write: w, vectors: [vector] })));
    expect(writeStatementParams(round ?? [], { ...context, checkpoint }).slice(16)).toEqual(['j', 'b', 2]);
    // A write whose one chunk is its source's text (same content hash) goes with a NULL text, copied from
    // the source row; the others as they are; the collection is the last parameter, after the checkpoint's.
    const source = { ...write('a', 1), contentHash: contentHash('t0', { lang: 'a' }) };
    const [mixed] = roundWrites([source, write('b', 1)].map((w) => ({ write: w, vectors: [vector] })));
    const textOfSource = textOfSourceOf('docs@v1', mixed ?? []);
    expect(textOfSource?.collection).toBe('docs');
    const withCopy = writeStatementParams(mixed ?? [], { ...context, checkpoint, textOfSource });
    expect(decoded(withCopy)[10]).toEqual([null, 't0']);
    expect(withCopy.slice(16)).toEqual(['j', 'b', 2, 'docs']);
    expect(decoded(writeStatementParams(mixed ?? [], context))[10]).toEqual(['t0', 't0']);
  });

  it('copies texts from source rows only for one-chunk writes of the source text itself (textOfSourceOf)', () => {
    const vector = new Float32Array([1, 0]);
    const of = (text: string, sourceText: string, chunks = 1, metadata = { lang: 'en' }) => ({
      write: {
        sourceId: 'a',
        sourceVersion: 1,
        contentHash: contentHash(sourceText, { lang: 'en' }),
        tenant: null,
        metadata,
        chunks: Array.from({ length: chunks }, (_, i) => ({ chunkId: `a#${i}`, index: i, text, vector })),
      },
      vectors: Array.from({ length: chunks }, () => vector),
    });
    const qualifies = (namespace: string, w: ReturnType<typeof of>) =>
      textOfSourceOf(namespace, roundWrites([w])[0] ?? []) !== undefined;
    expect(qualifies('docs@v1', of('the text', 'the text'))).toBe(true);
    // Preprocessing changed the text, two chunks, other metadata, a namespace of no collection: sent as is.
    expect(qualifies('docs@v1', of('The Text', 'the text'))).toBe(false);
    expect(qualifies('docs@v1', of('the text', 'the text', 2))).toBe(false);
    expect(qualifies('docs@v1', of('the text', 'the text', 1, { lang: 'de' }))).toBe(false);
    expect(qualifies('plain', of('the text', 'the text'))).toBe(false);
  });

  it('resolves defaults and refuses invalid options', () => {
    const config = resolvePgConfig({ url: 'postgres://u:p@h/db' });
    expect(config).toMatchObject({
      schema: 'reembed',
      efSearch: 40,
      hnsw: { m: 16, efConstruction: 64, deferred: false, buildMemoryMB: 4096 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.hnsw)).toBe(true);
    expect(() => resolvePgConfig({ url: 'postgres://h/db', hnsw: { buildMemoryMB: 32 } })).toThrow(
      /buildMemoryMB/,
    );
    expect(() => resolvePgConfig({ url: 'mysql://x' })).toThrow(/url/);
    expect(() => resolvePgConfig({ url: 'postgres://h/db', schema: 'Bad-Name' })).toThrow(/schema/);
    expect(() => resolvePgConfig({ url: 'postgres://h/db', hnsw: { m: 32, efConstruction: 40 } })).toThrow(
      /efConstruction/,
    );
    expect(redactUrl('postgres://reembed:s3cret@127.0.0.1:5432/reembed')).toBe(
      'postgres://reembed:***@127.0.0.1:5432/reembed',
    );
  });

  it('sizes the HNSW build memory to the graph pgvector holds, not below what it measured', () => {
    // pgvector 0.8, 384-d, m 16: 16 MB of maintenance_work_mem spilled after 7,239 rows (NOTICE "hnsw graph
    // no longer fits"), 2,318 bytes per row. The estimate must cover that, without reserving far more.
    const measured = 16 * 2 ** 20;
    expect(hnswGraphBytes(7239, 384, 16)).toBeGreaterThan(measured);
    expect(hnswGraphBytes(7239, 384, 16)).toBeLessThan(1.25 * measured);
    expect(hnswGraphBytes(1_000_000, 384, 16) / 2 ** 30).toBeCloseTo(2.54, 1);
    expect(hnswGraphBytes(2000, 768, 32)).toBeGreaterThan(hnswGraphBytes(2000, 384, 16));
  });

  it('never imports pg statically: the driver loads only when a Postgres backend opens', () => {
    const dir = new URL('.', import.meta.url).pathname;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source, file).not.toMatch(/^import [^;]*from 'pg';/m);
    }
  });
});

/** The inverse of `encodeTextArray`, as the server's `array_recv` reads it. */
/** A binary one-dimensional array: text elements as strings, integer and bigint elements as numbers. */
function decodeArray(bytes: Buffer): (string | number | null)[] {
  const oid = bytes.readUInt32BE(8);
  if (oid === 25) return decodeTextArray(bytes);
  expect([INT4_OID, INT8_OID]).toContain(oid);
  const out: number[] = [];
  let offset = 20;
  for (let i = 0; i < bytes.readInt32BE(12); i++) {
    const length = bytes.readInt32BE(offset);
    expect(length).toBe(oid === INT8_OID ? 8 : 4);
    out.push(length === 4 ? bytes.readInt32BE(offset + 4) : Number(bytes.readBigInt64BE(offset + 4)));
    offset += 4 + length;
  }
  expect(offset).toBe(bytes.length);
  return out;
}

function decodeTextArray(bytes: Buffer): (string | null)[] {
  expect(bytes.readInt32BE(0)).toBe(1);
  expect(bytes.readUInt32BE(8)).toBe(25);
  const out: (string | null)[] = [];
  let offset = 20;
  for (let i = 0; i < bytes.readInt32BE(12); i++) {
    const length = bytes.readInt32BE(offset);
    offset += 4;
    out.push(length < 0 ? null : bytes.toString('utf8', offset, offset + length));
    offset += Math.max(length, 0);
  }
  expect(offset).toBe(bytes.length);
  return out;
}
