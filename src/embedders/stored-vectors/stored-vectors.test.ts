import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempApp } from '../../../test/app/helpers.js';
import { withTitle } from '../../corpus/document.js';
import type { Embedder } from '../../ports/embedder.js';
import { expectCode } from '../../testing/fixtures.js';
import { createLocalEmbedderFactory } from '../factory.js';
import { createHashingEmbedder, hashingSpace } from '../hashing.js';
import type { StoredVectorsEmbedder } from './embedder.js';
import { withStoredVectors } from './factory.js';
import { manifestDocumentText } from './source-texts.js';
import { storedVectorsSpace } from './space.js';
import { loadStoredVectors, vectorById, vectorByText } from './store.js';
import { writeStoredVectors } from './write.js';

/**
 * Stored vectors without the shared datasets: a team exports the vectors of a space it runs live (here
 * feature hashing, so the test needs no model), and reembed adopts them — same fingerprint, lookups by
 * id and text, checksums, and the fall-through to the live model for texts it does not hold.
 */
const live = hashingSpace('hash-64', { dimension: 64, seed: 7 });
const hasher = createHashingEmbedder(live);
const DOCS = Array.from({ length: 12 }, (_, i) => ({
  id: `d${i}`,
  title: i % 3 === 0 ? '' : i % 3 === 1 ? `Title ${i}.` : `Title ${i}`,
  text: `document ${i} about embedding spaces and migrations number ${i * 7}`,
}));
const QUERIES = [
  { id: 'q1', text: 'which spaces are comparable' },
  { id: 'q2', text: 'how does a migration cut over' },
];

let dir: string;
let cleanup: () => Promise<void>;
let folder: string;

async function vectorsOf(texts: string[]): Promise<Float32Array[]> {
  return hasher.embed(texts, { inputType: 'document' });
}

beforeEach(async () => {
  const ctx = await tempApp();
  dir = ctx.dir;
  cleanup = ctx.cleanup;
  folder = join(dir, 'vectors');
  const docVectors = await vectorsOf(DOCS.map((d) => manifestDocumentText(d.title, d.text)));
  const queryVectors = await vectorsOf(QUERIES.map((q) => q.text));
  writeStoredVectors(folder, {
    space: live.spec,
    corpus: DOCS.map((d, i) => ({ ...d, vector: docVectors[i] as Float32Array })),
    queries: QUERIES.map((q, i) => ({ ...q, vector: queryVectors[i] as Float32Array })),
  });
});
afterEach(async () => cleanup());

function factory(): ReturnType<typeof withStoredVectors> {
  return withStoredVectors(createLocalEmbedderFactory({ baseDir: dir }), { baseDir: dir });
}

describe('stored vectors of a space reembed runs live', () => {
  it('belong to that space: the folder gives the live space its fingerprint, and fallback defaults to live', async () => {
    const space = await storedVectorsSpace('adopted', folder);
    expect(space.fingerprint).toBe(live.fingerprint);
    expect(space.spec).toEqual(live.spec);
    expect(space.runtime.options).toMatchObject({ vectors: folder, fallback: 'live' });
  });

  it('are found by id and by the sha256 of the exact text, as the manifest rule and as reembed ingest build it', async () => {
    const stored = await loadStoredVectors(folder);
    const bytes = readFileSync(join(folder, 'corpus.f32'));
    const row3 = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + 3 * 64 * 4, bytes.byteOffset + 4 * 64 * 4),
    );
    expect(vectorById(stored, 'd3', 'corpus')).toEqual(row3);
    expect(vectorById(stored, 'q2', 'queries')).toEqual((await vectorsOf([QUERIES[1]?.text as string]))[0]);
    expect(vectorById(stored, 'nope', 'corpus')).toBeUndefined();
    for (const d of DOCS) {
      const expected = vectorById(stored, d.id, 'corpus');
      expect(vectorByText(stored, manifestDocumentText(d.title, d.text), 'document')).toEqual(expected);
      expect(vectorByText(stored, withTitle(d.title, d.text), 'document')).toEqual(expected);
    }
    // `Title 4.` + ". " gives a doubled period; `reembed ingest` writes one. Both map to the row.
    expect(manifestDocumentText('Title 4.', 'x')).toBe('Title 4.. x');
    expect(withTitle('Title 4.', 'x')).toBe('Title 4. x');
    // The model has no query/document prefix: a query text is found from the document side too.
    expect(vectorByText(stored, 'which spaces are comparable', 'document')).toEqual(
      vectorById(stored, 'q1', 'queries'),
    );
    expect(vectorByText(stored, 'document 1 about', 'document')).toBeUndefined();
  });

  it('combined mode: held texts come from the folder, others from the live model of the same space', async () => {
    const space = await storedVectorsSpace('adopted', folder);
    const embedder = (await factory().create(space)) as StoredVectorsEmbedder;
    const d5 = DOCS[5] as (typeof DOCS)[number];
    const texts = [withTitle(d5.title, d5.text), 'a text nobody stored', QUERIES[0]?.text as string];
    const vectors = await embedder.embed(texts, { inputType: 'query' });
    const stored = await loadStoredVectors(folder);
    expect(vectors[0]).toEqual(vectorById(stored, 'd5', 'corpus'));
    expect(vectors[1]).toEqual((await hasher.embed(['a text nobody stored'], { inputType: 'query' }))[0]);
    expect(vectors[2]).toEqual(vectorById(stored, 'q1', 'queries'));
    expect(embedder.counts()).toEqual({ stored: 2, live: 1 });
    expect(embedder.combined).toBe(true);
  });

  it('fallback none refuses a text it does not hold with NOT_HELD saying what to do', async () => {
    const space = await storedVectorsSpace('adopted', folder, { fallback: 'none' });
    const embedder = await factory().create(space);
    const error = await expectCode(
      embedder.embed(['held? no', DOCS[0]?.text as string], { inputType: 'document' }),
      'NOT_HELD',
    );
    expect(error.message).toContain('holds none for 1 of 2 document text(s)');
    expect(error.message).toContain('fallback "live"');
    expect(error.details).toMatchObject({ missing: 1, texts: 2, liveProvider: 'hashing' });
  });

  it('an ingest with a document the folder does not hold writes nothing of the batch', async () => {
    const ctx = await tempApp();
    try {
      await ctx.app.addSpace(await storedVectorsSpace('adopted', folder, { fallback: 'none' }));
      await ctx.app.createCollection('docs', 'adopted');
      const ingested = DOCS.slice(0, 4).map((d) => ({ id: d.id, text: withTitle(d.title, d.text) }));
      await ctx.app.ingest('docs', ingested);
      expect((await ctx.app.backend.store.stats('docs@adopted')).records).toBe(4);
      await expectCode(
        ctx.app.ingest('docs', [
          ...DOCS.slice(4, 6).map((d) => ({ id: d.id, text: d.text })),
          { id: 'x', text: 'new' },
        ]),
        'NOT_HELD',
      );
      expect((await ctx.app.backend.store.stats('docs@adopted')).records).toBe(4);
    } finally {
      await ctx.cleanup();
    }
  });
});

describe('a corrupted or foreign folder is refused', () => {
  it('refuses a vectors file with a flipped byte, a truncated one and edited ids with INTEGRITY_FAILED', async () => {
    const f32 = join(folder, 'corpus.f32');
    const bytes = readFileSync(f32);
    bytes[100] = (bytes[100] as number) ^ 0x01;
    writeFileSync(f32, bytes);
    const flipped = await expectCode(loadStoredVectors(folder), 'INTEGRITY_FAILED');
    expect(flipped.message).toContain('corpus.f32 is corrupted or was replaced');
    expect(flipped.message).toContain('nothing was loaded');
    await expectCode(storedVectorsSpace('adopted', folder), 'INTEGRITY_FAILED');
    writeFileSync(f32, bytes.subarray(0, bytes.length - 4));
    await expectCode(loadStoredVectors(folder), 'INTEGRITY_FAILED');
    bytes[100] = (bytes[100] as number) ^ 0x01;
    writeFileSync(f32, bytes);
    await loadStoredVectors(folder); // restored: loads again (the cache re-checks files changed in place)
    writeFileSync(join(folder, 'queries.ids'), 'q1\nq3\n');
    await expectCode(loadStoredVectors(folder), 'INTEGRITY_FAILED');
  });

  it('serves by id but not by text when the source texts changed, and refuses an explicit changed source', async () => {
    const jsonl = join(folder, 'corpus.jsonl');
    writeFileSync(jsonl, readFileSync(jsonl, 'utf8').replace('document 3', 'document three'));
    const stored = await loadStoredVectors(folder);
    expect(vectorById(stored, 'd3', 'corpus')).toBeDefined();
    expect(vectorByText(stored, DOCS[1]?.text as string, 'document')).toBeUndefined();
    expect(stored.texts.origin.corpus).toContain(
      'differs from the corpus.jsonl the vectors were computed from',
    );
    await expectCode(loadStoredVectors(folder, { sourceDir: folder }), 'INTEGRITY_FAILED');
  });

  it('gives vectors of an unknown model their own space (provider stored-vectors) with no live fallback', async () => {
    const manifestPath = join(folder, 'MANIFEST.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    delete manifest.space;
    manifest.model = 'some-team-model-v3';
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const space = await storedVectorsSpace('theirs', folder);
    expect(space.spec.provider).toBe('stored-vectors');
    expect(space.spec.revision).toMatch(/^vectors-[0-9a-f]{16}$/);
    expect(space.fingerprint).not.toBe(live.fingerprint);
    expect(space.runtime.options.fallback).toBe('none');
    await expectCode(storedVectorsSpace('theirs', folder, { fallback: 'live' }), 'INVALID_INPUT');
    const embedder: Embedder = await factory().create(space);
    const error = await expectCode(embedder.embed(['unknown'], { inputType: 'query' }), 'NOT_HELD');
    expect(error.message).toContain('No live model is known');
    const d0 = DOCS[0] as (typeof DOCS)[number];
    expect((await embedder.embed([d0.text], { inputType: 'document' }))[0]).toHaveLength(64);
    // A stored-vectors space without its folder cannot be built.
    const { vectors: _v, ...options } = space.runtime.options;
    const { defineSpace } = await import('../../core/space.js');
    await expectCode(factory().create(defineSpace('theirs', space.spec, { options })), 'INVALID_SPEC');
    rmSync(join(folder, 'MANIFEST.json'));
    await expectCode(loadStoredVectors(folder), 'NOT_FOUND');
  });
});
