import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from '../../../test/cli/helpers.js';
import { sharedDataset } from '../../../test/shared-datasets.js';
import { withTitle } from '../../corpus/document.js';
import { expectCode } from '../../testing/fixtures.js';
import { minilmSpace } from '../minilm/embedder.js';
import { manifestDocumentText } from './source-texts.js';
import { storedVectorsSpace } from './space.js';
import { loadStoredVectors, vectorById, vectorByText } from './store.js';

/**
 * The real all-MiniLM-L6-v2 vectors of ../shared/datasets/{scifact,cranfield}/embeddings/minilm-l6-v2:
 * their space, lookups, checksum refusal, and exact search through `reembed eval` (manifest: SciFact
 * nDCG@10 0.6464, MRR@10 0.6051, recall@100 0.925).
 */
const scifact = sharedDataset(
  'scifact',
  'embeddings/minilm-l6-v2/MANIFEST.json',
  'the stored MiniLM vectors tests',
);
const cranfield = sharedDataset(
  'cranfield',
  'embeddings/minilm-l6-v2/MANIFEST.json',
  'the stored Cranfield MiniLM vectors tests',
);
const vectorsOf = (dataset: string) => join(dataset, 'embeddings', 'minilm-l6-v2');

/** Pinned: the space of these vectors changes only on purpose (a new model build, new text rules). */
const MINILM_FINGERPRINT = 'sp_b2675c3539837159';

describe.skipIf(!scifact || !cranfield)('stored all-MiniLM-L6-v2 vectors of the shared datasets', () => {
  const sci = scifact as string;
  const cran = cranfield as string;

  it('have one stable fingerprint for both datasets, equal to the live minilm space', async () => {
    const a = await storedVectorsSpace('minilm', vectorsOf(sci));
    const b = await storedVectorsSpace('other-name', vectorsOf(cran));
    expect(a.fingerprint).toBe(MINILM_FINGERPRINT);
    expect(b.fingerprint).toBe(MINILM_FINGERPRINT);
    expect(minilmSpace('live').fingerprint).toBe(MINILM_FINGERPRINT);
    expect(a.spec).toMatchObject({
      provider: 'minilm',
      dimension: 384,
      metric: 'cosine',
      normalization: 'l2',
      preprocessing: 'raw',
    });
    expect(a.spec.params).toMatchObject({ maxSequenceTokens: 256 });
  });

  it('serve every document and query by id and by text (as the manifest embedded it and as reembed ingests it)', async () => {
    const stored = await loadStoredVectors(vectorsOf(sci));
    expect(stored.sets.corpus?.ids).toHaveLength(5183);
    expect(stored.sets.queries?.ids).toHaveLength(300);
    const raw = readFileSync(join(vectorsOf(sci), 'corpus.f32'));
    const first = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 384 * 4));
    expect(vectorById(stored, '4983', 'corpus')).toEqual(first);
    const lines = readFileSync(join(sci, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean);
    let twoTexts = 0;
    const wrong: string[] = [];
    const same = (a: Float32Array | undefined, b: Float32Array | undefined) =>
      a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
    for (const line of lines) {
      const d = JSON.parse(line) as { _id: string; title: string; text: string };
      const expected = vectorById(stored, d._id, 'corpus');
      if (!same(vectorByText(stored, manifestDocumentText(d.title, d.text), 'document'), expected))
        wrong.push(d._id);
      if (!same(vectorByText(stored, withTitle(d.title, d.text), 'document'), expected)) wrong.push(d._id);
      if (withTitle(d.title, d.text) !== manifestDocumentText(d.title, d.text)) twoTexts++;
    }
    expect(wrong).toEqual([]);
    expect(lines).toHaveLength(5183);
    expect(twoTexts).toBeGreaterThan(3000); // SciFact titles end with "."
    const q = JSON.parse(readFileSync(join(sci, 'queries.jsonl'), 'utf8').split('\n')[0] as string) as {
      _id: string;
      text: string;
    };
    expect(vectorByText(stored, q.text, 'query')).toEqual(vectorById(stored, q._id, 'queries'));
  });

  it('refuses a copy with one corrupted byte', async () => {
    const { dir, cleanup } = tempDir('reembed-minilm-');
    try {
      const copy = join(dir, 'cranfield', 'embeddings', 'minilm-l6-v2');
      mkdirSync(copy, { recursive: true });
      for (const f of ['MANIFEST.json', 'corpus.f32', 'corpus.ids', 'queries.f32', 'queries.ids']) {
        copyFileSync(join(vectorsOf(cran), f), join(copy, f));
      }
      const bytes = readFileSync(join(copy, 'queries.f32'));
      bytes[7] = (bytes[7] as number) ^ 0x80;
      writeFileSync(join(copy, 'queries.f32'), bytes);
      const error = await expectCode(loadStoredVectors(copy), 'INTEGRITY_FAILED');
      expect(error.details).toMatchObject({
        expectedSha256: 'e93f3724cfe4e82c6e5e6740696cb68a02618fb7dd6712e06bd2c00b70a074d4',
      });
    } finally {
      cleanup();
    }
  });

  it('give SciFact nDCG@10 0.646 through reembed ingest and reembed eval (exact search)', async () => {
    const { dir, cleanup } = tempDir('reembed-minilm-');
    try {
      const db = join(dir, 'r.db');
      const run = (...argv: string[]) => runCli(['--db', db, ...argv], dir);
      expect((await run('init')).code).toBe(0);
      const added = await run(
        'space',
        'add',
        'minilm',
        '--provider',
        'stored-vectors',
        '--from',
        vectorsOf(sci),
        '--json',
      );
      expect(added.code, added.stderr).toBe(0);
      expect(parseJson<{ space: { fingerprint: string } }>(added).space.fingerprint).toBe(MINILM_FINGERPRINT);
      expect((await run('collection', 'create', 'scifact', '--space', 'minilm')).code).toBe(0);
      const ingest = await run('ingest', 'scifact', sci, '--json');
      expect(ingest.code, ingest.stderr).toBe(0);
      const evaluated = await run('eval', 'scifact', '--golden', sci, '--json');
      expect(evaluated.code, evaluated.stderr).toBe(0);
      const metrics = parseJson<{ metrics: Record<string, number>; queries: number }>(evaluated);
      expect(metrics.queries).toBe(300);
      expect(metrics.metrics['ndcg@10']).toBeCloseTo(0.6464, 4);
      expect(metrics.metrics['mrr@10']).toBeCloseTo(0.6051, 4);
      expect(metrics.metrics['recall@100']).toBeCloseTo(0.925, 3);
    } finally {
      cleanup();
    }
  });
});
