import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReembedError } from '../core/errors.js';
import { sharedData } from '../testing/shared.js';
import { loadGoldenSet, readCorpusIds } from './load-golden.js';

const DATA = sharedData('datasets', 'scifact/queries.jsonl');
const DATASETS = DATA.path;
const haveDatasets = DATA.present;

async function rejection(p: Promise<unknown>): Promise<ReembedError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ReembedError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!haveDatasets)(DATA.label('real BEIR datasets'), () => {
  it('scifact: 300 queries, 339 judgments, all doc ids in the corpus', async () => {
    const g = await loadGoldenSet(join(DATASETS, 'scifact'), { checkCorpus: true });
    expect(g.name).toBe('scifact');
    expect(g.queries).toHaveLength(300);
    expect(g.judgments).toBe(339);
    expect(g.skipped).toEqual({ noJudgments: 0, noRelevant: 0, judgmentsWithoutQuery: 0 });
    expect(g.queries[0]).toEqual({ id: '1', text: '0-dimensional biomaterials show inductive properties.' });
    expect(g.qrels['1']).toEqual({ '31715818': 1 });
  });

  it('cranfield: 225 queries with graded judgments (1..4)', async () => {
    const g = await loadGoldenSet(join(DATASETS, 'cranfield'), { checkCorpus: true });
    expect(g.queries).toHaveLength(225);
    expect(g.judgments).toBe(1612);
    const grades = new Set(Object.values(g.qrels).flatMap((j) => Object.values(j)));
    expect([...grades].sort()).toEqual([1, 2, 3, 4]);
    expect(g.qrels['1']?.['184']).toBe(3);
  });

  it('the corpus id reader sees every document', async () => {
    expect((await readCorpusIds(join(DATASETS, 'cranfield', 'corpus.jsonl'))).size).toBe(1400);
  });
});

describe('loaders on temp files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reembed-golden-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function beir(
    name: string,
    queries: string,
    qrels: string,
    qrelsPath = 'qrels.tsv',
  ): Promise<string> {
    const d = join(dir, name);
    await mkdir(join(d, 'qrels'), { recursive: true });
    await writeFile(join(d, 'queries.jsonl'), queries);
    await writeFile(join(d, qrelsPath), qrels);
    return d;
  }
  const Q = '{"_id": "q1", "text": "alpha"}\n{"_id": 2, "text": "beta"}\n{"_id": "q3", "text": "gamma"}\n';

  it('reads BEIR with a header, CRLF, BOM and queries without judgments (skipped and counted)', async () => {
    const d = await beir(
      'ok',
      `\uFEFF${Q}`,
      'query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\n2\td2\t2\r\n2\td3\t0\r\nq9\td1\t1\r\n',
    );
    const g = await loadGoldenSet(d, { knownDocIds: new Set(['d1', 'd2', 'd3']) });
    expect(g.queries.map((q) => q.id)).toEqual(['q1', '2']);
    expect(g.qrels['2']).toEqual({ d2: 2, d3: 0 });
    expect(g.skipped).toEqual({ noJudgments: 1, noRelevant: 0, judgmentsWithoutQuery: 1 });
  });

  it('reads qrels/test.tsv (BEIR download layout), a chosen split, and TREC 4-column lines without header', async () => {
    const d = await beir('split', Q, 'q1 0 d1 1\nq3 0 d4 1\n', 'qrels/test.tsv');
    await writeFile(join(d, 'qrels', 'dev.tsv'), 'query-id\tcorpus-id\tscore\nq3\td9\t1\n');
    expect((await loadGoldenSet(d)).queries.map((q) => q.id)).toEqual(['q1', 'q3']);
    expect((await loadGoldenSet(d, { split: 'dev' })).qrels).toEqual({ q3: { d9: 1 } });
    const missing = await rejection(loadGoldenSet(d, { split: 'train' }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('qrels/train.tsv');
  });

  it('malformed BEIR lines give file:line errors', async () => {
    const cases: [string, string, string, RegExp][] = [
      [
        'badjson',
        '{"_id": "q1", "text": "a"}\n{"_id": "q2", "text": \n',
        'q1\td1\t1\n',
        /queries\.jsonl:2: not valid JSON/,
      ],
      ['noid', '{"text": "a"}\n', 'q1\td1\t1\n', /queries\.jsonl:1: "_id" must be/],
      [
        'dupq',
        `${Q}{"_id": "q1", "text": "again"}\n`,
        'q1\td1\t1\n',
        /queries\.jsonl:4: duplicate query id "q1" \(first at .*queries\.jsonl:1\)/,
      ],
      [
        'dupqrel',
        Q,
        'query-id\tcorpus-id\tscore\nq1\td1\t1\n\nq1\td1\t2\n',
        /qrels\.tsv:4: duplicate judgment.*qrels\.tsv:2/,
      ],
      ['badscore', Q, 'query-id\tcorpus-id\tscore\nq1\td1\tx\n', /qrels\.tsv:2: score "x" is not a number/],
      ['columns', Q, 'q1\td1\n', /qrels\.tsv:1: expected 3 columns/],
      ['emptyqrels', Q, 'query-id\tcorpus-id\tscore\n', /qrels\.tsv holds no judgment lines/],
    ];
    for (const [name, queries, qrels, pattern] of cases) {
      const e = await rejection(loadGoldenSet(await beir(name, queries, qrels)));
      expect(e.code, name).toBe('INVALID_INPUT');
      expect(e.message, name).toMatch(pattern);
    }
  });

  it('unknown doc ids are named with their qrels lines', async () => {
    const d = await beir('unknown', Q, 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tghost\t1\n');
    await writeFile(join(d, 'corpus.jsonl'), '{"_id": "d1", "title": "", "text": "x"}\n');
    const e = await rejection(loadGoldenSet(d, { checkCorpus: true }));
    expect(e.message).toMatch(/"ghost" \(.*qrels\.tsv:3\)/);
  });

  it('reads the simple JSONL format with lists, graded objects and line-number ids', async () => {
    const file = join(dir, 'golden.jsonl');
    await writeFile(
      file,
      '{"id": "a", "query": "what is hnsw", "relevant": ["d1", "d2"]}\n\n{"query": "graded", "relevant": {"d3": 3, "d4": 1}}\n',
    );
    const g = await loadGoldenSet(file);
    expect(g.name).toBe('golden');
    expect(g.queries).toEqual([
      { id: 'a', text: 'what is hnsw' },
      { id: '3', text: 'graded' },
    ]);
    expect(g.qrels['3']).toEqual({ d3: 3, d4: 1 });
  });

  it('malformed JSONL lines give file:line errors', async () => {
    const cases: [string, RegExp][] = [
      ['{"query": "x", "relevant": []}', /:1: query "1" has no relevant documents/],
      ['{"query": "x", "relevant": {}}', /:1: query "1" has no relevant documents/],
      ['{"query": "x"}', /:1: "relevant" must be/],
      ['{"relevant": ["d"]}', /:1: "query" must be a string/],
      ['{"query": "x", "relevant": {"d": "high"}}', /:1: grade of "d" must be a number/],
      ['{"query": "x", "relevant": ["d", "d"]}', /:1: duplicate judgment/],
      ['[1, 2]', /:1: expected a JSON object/],
      [
        '{"id": "q", "query": "x", "relevant": ["d"]}\n{"id": "q", "query": "y", "relevant": ["d"]}',
        /:2: duplicate query id "q"/,
      ],
    ];
    for (const [i, [content, pattern]] of cases.entries()) {
      const file = join(dir, `bad${i}.jsonl`);
      await writeFile(file, `${content}\n`);
      const e = await rejection(loadGoldenSet(file));
      expect(e.code, content).toBe('INVALID_INPUT');
      expect(e.message, content).toContain(file);
      expect(e.message, content).toMatch(pattern);
    }
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '\n');
    expect((await rejection(loadGoldenSet(empty))).message).toMatch(/is empty/);
  });

  it('a missing path is NOT_FOUND', async () => {
    const e = await rejection(loadGoldenSet(join(dir, 'nope')));
    expect(e.code).toBe('NOT_FOUND');
    const noQueries = join(dir, 'noqueries');
    await mkdir(noQueries);
    expect((await rejection(loadGoldenSet(noQueries))).message).toContain('queries.jsonl');
  });
});
