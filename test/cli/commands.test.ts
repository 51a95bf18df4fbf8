import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NamespaceManifest } from '../../src/core/namespace.js';
import { HashingEncoder } from '../../src/embedders/hashing.js';
import { startOpenAICompatibleServer } from '../../src/testing/openai-server.js';
import { type CliRun, parseJson, runCli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'test.db');
});
afterEach(() => cleanup());

const DOCS = [
  { id: 'a', text: 'Vectors from two models live in different spaces.', metadata: { lang: 'en' } },
  { _id: 'b', title: 'Cats', text: 'Cats purr softly when they are content.', metadata: { lang: 'en' } },
  { id: 'c', text: 'Hunde bellen laut in der Nacht.', metadata: { lang: 'de' }, tenant: 't1' },
  { id: 'd', text: 'An alias points at one namespace during normal operation.', metadata: { lang: 'en' } },
];

function writeJsonl(name: string, lines: readonly (object | string)[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return file;
}

async function setup(dimension = 32): Promise<void> {
  expect((await cli('init')).code).toBe(0);
  expect(
    (await cli('space', 'add', 'v1', '--provider', 'hashing', '--dimension', String(dimension))).code,
  ).toBe(0);
  expect((await cli('collection', 'create', 'docs', '--space', 'v1')).code).toBe(0);
}

describe('reembed CLI, in-process', () => {
  it('init creates the database and says where; other commands refuse a missing database', async () => {
    const missing = await cli('status');
    expect(missing.code).toBe(4);
    expect(missing.stderr.trim()).toMatch(
      /^error NOT_FOUND: No reembed database at .*test\.db\. Run `reembed init`/,
    );
    expect(existsSync(db)).toBe(false);

    const init = await cli('init');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(`Created reembed database at ${db}`);
    expect(existsSync(db)).toBe(true);
    expect(parseJson(await cli('init', '--json'))).toEqual({
      backend: 'sqlite',
      location: db,
      created: false,
    });
  });

  it('adds spaces, creates a collection, ingests, searches with provenance and trace, reports status', async () => {
    await setup();
    const spaces = parseJson<{ name: string; fingerprint: string; dimension: number }[]>(
      await cli('space', 'list', '--json'),
    );
    expect(spaces.map((s) => [s.name, s.dimension])).toEqual([['v1', 32]]);
    const fingerprint = spaces[0]?.fingerprint as string;

    const ingest = await cli('ingest', 'docs', writeJsonl('docs.jsonl', DOCS), '--json');
    expect(ingest.code).toBe(0);
    expect(parseJson(ingest)).toMatchObject({
      collection: 'docs',
      documents: 4,
      changed: 4,
      namespaces: { 'docs@v1': { written: 4 } },
    });

    const human = await cli('search', 'docs', 'cats purring', '-k', '2');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/2 hit\(s\) from alias docs \(single → docs@v1\)/);
    expect(human.stdout).toContain('Cats. Cats purr softly');
    expect(human.stdout).toContain(`read docs@v1 [served] space v1 ${fingerprint}`);

    const search = parseJson<{
      hits: { sourceId: string; provenance: { fingerprint: string; sourceVersion: number } }[];
      trace: { fingerprints: string[]; mixedVersion: boolean };
    }>(await cli('search', 'docs', 'cats purring', '--filter', 'lang=en', '--json'));
    expect(search.hits[0]?.sourceId).toBe('b');
    expect(search.hits.map((h) => h.sourceId)).not.toContain('c');
    expect(
      search.hits.every((h) => h.provenance.fingerprint === fingerprint && h.provenance.sourceVersion > 0),
    ).toBe(true);
    expect(search.trace).toMatchObject({ fingerprints: [fingerprint], mixedVersion: false });

    const tenant = parseJson<{ hits: { sourceId: string }[] }>(
      await cli('search', 'docs', 'bellen', '--tenant', 't1', '--json'),
    );
    expect(tenant.hits.map((h) => h.sourceId)).toEqual(['c']);

    const status = await cli('status', '--json');
    expect(status.code).toBe(0);
    const manifests = parseJson<NamespaceManifest[]>(status);
    expect(manifests).toHaveLength(1);
    expect(manifests[0]).toMatchObject({
      kind: 'manifest',
      namespace: 'docs@v1',
      collection: 'docs',
      state: 'serving',
      space: { name: 'v1', fingerprint, provider: 'hashing', dimension: 32, metric: 'cosine' },
      records: 4,
      sources: 4,
      fingerprints: { [fingerprint]: 4 },
      coverage: { live: 4, current: 4, stale: 0, ratio: 1 },
      aliases: ['docs'],
    });
    const text = await cli('status', 'docs');
    expect(text.stdout).toContain(`versions     ${fingerprint} 100.0% single space`);
    expect(text.stdout).toContain('coverage     4/4 live sources current (100.0%), 0 stale');
  });

  it('re-ingesting unchanged documents writes nothing; delete tombstones in every namespace', async () => {
    await setup();
    const file = writeJsonl('docs.jsonl', DOCS);
    await cli('ingest', 'docs', file);
    expect(parseJson(await cli('ingest', 'docs', file, '--json'))).toMatchObject({
      documents: 4,
      changed: 0,
      unchanged: 4,
    });
    const ids = join(dir, 'ids.txt');
    writeFileSync(ids, 'a\n\nnope\n');
    const deleted = parseJson(await cli('delete', 'docs', 'b', '--ids-file', ids, '--json'));
    expect(deleted).toMatchObject({ requested: 3, deleted: 2, namespaces: { 'docs@v1': { deleted: 2 } } });
    const [manifest] = parseJson<NamespaceManifest[]>(await cli('status', '--json'));
    expect(manifest?.coverage.live).toBe(2);
    expect(manifest?.sources).toBe(2);
    const hits = parseJson<{ hits: { sourceId: string }[] }>(
      await cli('search', 'docs', 'cats vectors alias', '--json'),
    ).hits;
    expect(hits.map((h) => h.sourceId).sort()).toEqual(['c', 'd']);
  });

  it('ingest stops at a malformed line, names the file and line, and writes nothing of that batch', async () => {
    await setup();
    const file = writeJsonl('bad.jsonl', [
      DOCS[0] as object,
      DOCS[1] as object,
      DOCS[2] as object,
      '{"id": "x" "text": "oops"}',
      DOCS[3] as object,
    ]);
    const run = await cli('ingest', 'docs', file, '--batch-size', '2', '--json');
    expect(run.code).toBe(2);
    const { error } = parseJson<{ error: { code: string; message: string } }>(run);
    expect(Object.keys(error).sort()).toEqual(['code', 'message']);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`${file}:4: not valid JSON`);
    expect(error.message).toContain(
      'Stopped: 2 document(s) before it were ingested; the batch starting at line 3 was not written',
    );
    const [manifest] = parseJson<NamespaceManifest[]>(await cli('status', '--json'));
    expect(manifest?.coverage.live).toBe(2);
    const ids = parseJson<{ hits: { sourceId: string }[] }>(
      await cli('search', 'docs', 'hunde bellen cats vectors', '--json'),
    ).hits.map((h) => h.sourceId);
    expect(ids.sort()).toEqual(['a', 'b']);

    const noId = await cli('ingest', 'docs', writeJsonl('noid.jsonl', [{ text: 'no id here' }]));
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/error INVALID_INPUT: .*noid\.jsonl:1: the document has no id/);
    const empty = await cli(
      'ingest',
      'docs',
      writeJsonl('empty.jsonl', [DOCS[3] as object, { id: 'e', text: '  ' }]),
    );
    expect(empty.stderr).toMatch(/empty\.jsonl:2: document "e" has empty text/);
    expect(empty.stderr).toContain(
      'Stopped: 0 document(s) before it were ingested; the batch starting at line 1 was not written',
    );
  });

  it('refuses a query vector of another space of the same dimension with SPACE_MISMATCH', async () => {
    await setup(16);
    await cli('ingest', 'docs', writeJsonl('docs.jsonl', DOCS));
    expect(
      (await cli('space', 'add', 'other', '--provider', 'hashing', '--dimension', '16', '--seed', '7')).code,
    ).toBe(0);
    const vector = join(dir, 'q.json');
    writeFileSync(vector, JSON.stringify(Array.from({ length: 16 }, (_, i) => (i % 3) - 1)));

    const refused = await cli('search', 'docs', '--vector-file', vector, '--space', 'other', '--json');
    expect(refused.code).toBe(3);
    const { error } = parseJson<{ error: { code: string; message: string } }>(refused);
    expect(error.code).toBe('SPACE_MISMATCH');
    expect(error.message).toContain('other');
    expect(error.message).toContain('docs@v1');

    const human = await cli('search', 'docs', '--vector-file', vector, '--space', 'other');
    expect(human.stderr.trim().split('\n')).toHaveLength(1);
    expect(human.stderr).toMatch(/^error SPACE_MISMATCH: Refusing to query namespace docs@v1/);

    const own = await cli('search', 'docs', '--vector-file', vector, '--space', 'v1', '-k', '2', '--json');
    expect(own.code).toBe(0);
    expect(parseJson<{ hits: unknown[] }>(own).hits).toHaveLength(2);
  });

  it('fits an LSA space with --fit-on and stores the model next to the database', async () => {
    await setup();
    const corpus = writeJsonl('fit.jsonl', [
      ...DOCS,
      { id: 'e', text: 'Cats and dogs live in different houses.' },
      { id: 'f', text: 'Two models produce vectors in different spaces.' },
    ]);
    const run = await cli(
      'space',
      'add',
      'lsa-v2',
      '--provider',
      'lsa',
      '--fit-on',
      corpus,
      '--dimension',
      '3',
      '--json',
    );
    expect(run.code).toBe(0);
    const out = parseJson<{
      space: { provider: string; dimension: number; options: { modelPath: string } };
      fitted: { path: string };
    }>(run);
    expect(out.space).toMatchObject({
      provider: 'lsa',
      dimension: 3,
      options: { modelPath: join('.reembed', 'models', 'lsa-v2.lsa') },
    });
    expect(out.fitted.path).toBe(join(dir, '.reembed', 'models', 'lsa-v2.lsa'));
    expect(existsSync(out.fitted.path)).toBe(true);
    expect((await cli('collection', 'create', 'lsadocs', '--space', 'lsa-v2')).code).toBe(0);
    expect((await cli('ingest', 'lsadocs', corpus)).code).toBe(0);
    expect(
      parseJson<{ hits: unknown[] }>(await cli('search', 'lsadocs', 'cats', '--json')).hits.length,
    ).toBeGreaterThan(0);
    const again = await cli(
      'space',
      'add',
      'lsa-v2',
      '--provider',
      'lsa',
      '--fit-on',
      corpus,
      '--dimension',
      '3',
    );
    // The identical definition again (a deterministic fit of the same corpus) changes nothing.
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already registered with this definition: nothing changed');
  });

  it('adds an OpenAI-compatible space that keeps only a reference to the key, and uses it over HTTP', async () => {
    const encoder = new HashingEncoder(16, { seed: 3, ngrams: 1, sublinear: false }, true);
    const server = await startOpenAICompatibleServer({
      embed: (text) => encoder.encode(text),
      apiKey: 'sk-cli-test-secret',
    });
    process.env.REEMBED_CLI_TEST_KEY = 'sk-cli-test-secret';
    try {
      await cli('init');
      const add = await cli(
        'space',
        'add',
        'remote',
        '--provider',
        'openai-compatible',
        '--model',
        'm1',
        '--dimension',
        '16',
        '--base-url',
        server.url,
        '--api-key-env',
        'REEMBED_CLI_TEST_KEY',
        '--price-per-1m',
        '0.02',
        '--json',
      );
      expect(add.code).toBe(0);
      expect(parseJson(add)).toMatchObject({
        space: {
          provider: 'openai-compatible',
          model: 'm1',
          dimension: 16,
          pricePerMillionTokens: 0.02,
          options: { baseUrl: server.url, apiKey: '$env:REEMBED_CLI_TEST_KEY' },
        },
      });
      expect((await cli('collection', 'create', 'docs', '--space', 'remote')).code).toBe(0);
      expect((await cli('ingest', 'docs', writeJsonl('docs.jsonl', DOCS))).code).toBe(0);
      const hits = parseJson<{ hits: { sourceId: string }[] }>(
        await cli('search', 'docs', 'cats purr', '--json'),
      ).hits;
      expect(hits[0]?.sourceId).toBe('b');
      for (const file of [db, `${db}-wal`].filter((f) => existsSync(f))) {
        expect(readFileSync(file).includes('sk-cli-test-secret')).toBe(false);
      }
      const literal = await cli(
        'space',
        'add',
        'bad',
        '--provider',
        'openai-compatible',
        '--model',
        'm',
        '--dimension',
        '4',
        '--base-url',
        server.url,
        '--api-key-env',
        'sk-live-123',
      );
      expect(literal.code).toBe(2);
      expect(literal.stderr).toContain('NAME of an environment variable');
    } finally {
      delete process.env.REEMBED_CLI_TEST_KEY;
      await server.close();
    }
  });

  it('usage errors exit 2 with the help; bad option values are usage errors', async () => {
    const unknown = await cli('bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'bogus'");
    expect(unknown.stderr).toContain('Usage: reembed');
    const option = await cli('search', 'docs', 'x', '--nope', '--json');
    expect(option.code).toBe(2);
    expect(parseJson(option)).toEqual({ error: { code: 'USAGE', message: "unknown option '--nope'" } });
    const value = await cli('space', 'add', 'v9', '--provider', 'hashing', '--dimension', '12x');
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('expected an integer');
    const provider = await cli('space', 'add', 'v9', '--provider', 'magic');
    expect(provider.code).toBe(2);
    expect((await cli('--help')).code).toBe(0);
    await cli('init');
    const misfit = await cli('space', 'add', 'v9', '--provider', 'hashing');
    expect(misfit.code).toBe(2);
    expect(misfit.stderr).toContain('Provider hashing needs --dimension');
  });

  it('migrate start --rerank-depth stores the embed-on-read depth with the migration; 0 is a usage error', async () => {
    await setup();
    expect((await cli('ingest', 'docs', writeJsonl('docs.jsonl', DOCS))).code).toBe(0);
    expect((await cli('space', 'add', 'v2', '--provider', 'hashing', '--dimension', '16')).code).toBe(0);
    const zero = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'v2',
      '--strategy',
      'lazy',
      '--rerank-depth',
      '0',
    );
    expect(zero.code).toBe(2);
    const run = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'v2',
      '--strategy',
      'lazy',
      '--rerank-depth',
      '40',
      '--no-probe',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const started = parseJson(run) as { migration: { options: { fusion: unknown } } };
    expect(started.migration.options.fusion).toEqual({ method: 'coverage-aware-score', rerankDepth: 40 });
  });
});
