import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReembedError } from '../../src/core/errors.js';
import { withTitle } from '../../src/corpus/document.js';
import { mulberry32 } from '../../src/corpus/prng.js';
import { type CorpusBatch, readCorpus, resolveCorpusFile } from '../../src/corpus/reader.js';
import { syntheticCorpus } from '../../src/corpus/synthetic.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('reembed-corpus-')));
afterEach(() => cleanup());

async function collect(path: string, batchSize: number): Promise<{ batches: CorpusBatch[]; error: unknown }> {
  const batches: CorpusBatch[] = [];
  try {
    for await (const b of readCorpus(path, { batchSize })) batches.push(b);
    return { batches, error: null };
  } catch (error) {
    return { batches, error };
  }
}

describe('corpus readers', () => {
  it('streams JSONL in batches with line numbers, BEIR _id and title prefix, skipping blank lines', async () => {
    const file = join(dir, 'c.jsonl');
    writeFileSync(
      file,
      '\uFEFF{"_id": 7, "title": "Title", "text": "body"}\r\n\n{"id":"x","text":"t","metadata":{"k":1},"tenant":"a"}\n{"id":"y","title":"Only a title","text":""}\n',
    );
    const { batches, error } = await collect(file, 2);
    expect(error).toBeNull();
    expect(batches.map((b) => b.lines)).toEqual([[1, 3], [4]]);
    expect(batches.map((b) => b.offset)).toEqual([0, 2]);
    expect(batches[0]?.docs).toEqual([
      { id: '7', text: 'Title. body', metadata: {}, tenant: null },
      { id: 'x', text: 't', metadata: { k: 1 }, tenant: 'a' },
    ]);
    expect(batches[1]?.docs[0]?.text).toBe('Only a title');
  });

  it('joins titles as BEIR does, without doubling sentence punctuation', () => {
    expect(withTitle('Cats', 'purr')).toBe('Cats. purr');
    expect(withTitle('Do cats purr?', 'Yes.')).toBe('Do cats purr? Yes.');
    expect(withTitle('  ', 'purr')).toBe('purr');
  });

  it.each([
    ['malformed JSON', '{"id": "b" "text": "x"}', /bad\.jsonl:3: not valid JSON/],
    ['a missing id', '{"text": "x"}', /bad\.jsonl:3: the document has no id/],
    ['empty text', '{"id": "b", "text": "   "}', /bad\.jsonl:3: document "b" has empty text/],
    ['a non-object', '[1, 2]', /bad\.jsonl:3: expected a JSON object/],
  ])('rejects the whole batch holding %s, naming file and line', async (_what, line, message) => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      `{"id":"a","text":"one"}\n{"id":"c2","text":"two"}\n${line}\n{"id":"d","text":"four"}\n`,
    );
    const { batches, error } = await collect(file, 1);
    expect(batches.map((b) => b.docs[0]?.id)).toEqual(['a', 'c2']);
    const big = await collect(file, 10);
    expect(big.batches).toEqual([]);
    expect(isReembedError(big.error, 'INVALID_INPUT')).toBe(true);
    expect((big.error as Error).message).toMatch(message);
    expect(isReembedError(error, 'INVALID_INPUT') && error.details).toMatchObject({
      file,
      line: 3,
      documentsBefore: 2,
    });
  });

  it('rejects an id repeated inside one batch, naming both lines', async () => {
    const file = join(dir, 'dup.jsonl');
    writeFileSync(file, '{"id":"a","text":"one"}\n{"id":"b","text":"two"}\n{"id":"a","text":"again"}\n');
    const { batches, error } = await collect(file, 10);
    expect(batches).toEqual([]);
    expect((error as Error).message).toMatch(
      /dup\.jsonl:3: id "a" already appears at line 1 of the same batch/,
    );
    // Across batches a repeated id is an update of the same document, as with any later ingest.
    expect((await collect(file, 2)).error).toBeNull();
  });

  it('resolves a BEIR directory to its corpus.jsonl and names what is missing', async () => {
    mkdirSync(join(dir, 'beir'));
    writeFileSync(join(dir, 'beir', 'corpus.jsonl'), '{"_id":"1","text":"x"}\n');
    expect(await resolveCorpusFile(join(dir, 'beir'))).toBe(join(dir, 'beir', 'corpus.jsonl'));
    await expect(resolveCorpusFile(dir)).rejects.toThrow(/without corpus\.jsonl/);
    await expect(resolveCorpusFile(join(dir, 'nope.jsonl'))).rejects.toThrow(/does not exist/);
  });
});

describe('synthetic corpus', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = syntheticCorpus({ seed: 5, docs: 200, queries: 20 });
    const b = syntheticCorpus({ seed: 5, docs: 200, queries: 20 });
    const c = syntheticCorpus({ seed: 6, docs: 200, queries: 20 });
    expect(b).toEqual(a);
    expect(c.docs[0]?.text).not.toBe(a.docs[0]?.text);
    expect(mulberry32(1)()).toBe(mulberry32(1)());
  });

  it('judges existing documents with graded relevance, and queries are not copies of documents', () => {
    const corpus = syntheticCorpus({ seed: 42, docs: 400, queries: 40 });
    expect(corpus.docs).toHaveLength(400);
    expect(corpus.queries).toHaveLength(40);
    const ids = new Set(corpus.docs.map((d) => d.id));
    expect(ids.size).toBe(400);
    const grades = new Set<number>();
    for (const q of corpus.queries) {
      const judgments = corpus.qrels[q.id] ?? {};
      expect(Object.keys(judgments).length).toBeGreaterThanOrEqual(2);
      for (const [id, grade] of Object.entries(judgments)) {
        expect(ids.has(id)).toBe(true);
        grades.add(grade);
      }
      expect(corpus.docs.some((d) => d.text.includes(q.text))).toBe(false);
    }
    expect([...grades].sort()).toEqual([1, 2]);
  });

  it('has synonyms: a query shares at most part of its words with its relevant documents', () => {
    const corpus = syntheticCorpus({ seed: 42, docs: 400, queries: 40 });
    const byId = new Map(corpus.docs.map((d) => [d.id, new Set(d.text.toLowerCase().match(/[a-z]+/g))]));
    let missing = 0;
    let total = 0;
    for (const q of corpus.queries) {
      for (const id of Object.keys(corpus.qrels[q.id] ?? {})) {
        const words = byId.get(id) as Set<string>;
        for (const w of q.text.split(' ')) {
          total++;
          if (!words.has(w)) missing++;
        }
      }
    }
    // Paraphrase gap: a fair share of query words never occur in relevant documents, but most do.
    expect(missing / total).toBeGreaterThan(0.1);
    expect(missing / total).toBeLessThan(0.6);
  });
});
