import { describe, expect, it } from 'vitest';
import {
  applyInput,
  attachChunks,
  documentChunks,
  queryText,
  sourceChunkTexts,
  truncateTokens,
} from './pipeline.js';
import { defineSpace } from './space.js';

const space = defineSpace('pipe', {
  provider: 'hashing',
  model: 'm',
  dimension: 8,
  chunker: { kind: 'tokens', size: 2, overlap: 0 },
  inputType: { query: 'query: ', document: 'passage: ' },
  truncation: { maxTokens: 3, side: 'end' },
});

describe('pipeline', () => {
  it('documentChunks preprocesses, then chunks, with ids sourceId#index', () => {
    expect(documentChunks(space.spec, 'doc-7', '  Ｏｎｅ\ntwo   three ')).toEqual([
      { chunkId: 'doc-7#0', index: 0, text: 'One two' },
      { chunkId: 'doc-7#1', index: 1, text: 'three' },
    ]);
    expect(documentChunks({ preprocessing: 'raw', chunker: { kind: 'none' } }, 'd', ' x ')).toEqual([
      { chunkId: 'd#0', index: 0, text: ' x ' },
    ]);
  });

  it('sourceChunkTexts reuses chunks attached for the same pipeline only, and only for that object', () => {
    const doc = { id: 'd', text: '  Ｏｎｅ\ntwo   three ' };
    const texts = documentChunks(space.spec, doc.id, doc.text).map((c) => c.text);
    expect(sourceChunkTexts(space.spec, doc)).toEqual(texts);
    attachChunks(doc, space.spec, ['precomputed']);
    expect(sourceChunkTexts(space.spec, doc)).toEqual(['precomputed']);
    expect(sourceChunkTexts({ ...space.spec }, doc)).toEqual(['precomputed']);
    expect(sourceChunkTexts({ ...space.spec, preprocessing: 'raw' }, doc)).toEqual(
      documentChunks({ ...space.spec, preprocessing: 'raw' }, doc.id, doc.text).map((c) => c.text),
    );
    expect(sourceChunkTexts(space.spec, { ...doc })).toEqual(texts);
    const same = { id: 'e', text: 'already clean' };
    attachChunks(same, space.spec);
    expect(sourceChunkTexts(space.spec, same)).toEqual(['already clean']);
  });

  it('queryText preprocesses without chunking', () => {
    expect(queryText(space.spec, '  Ｑuery\t text  ')).toBe('Query text');
  });

  it('applyInput truncates by word tokens, then adds the input-type prefix', () => {
    expect(applyInput(space.spec, 'one, two; three four five', 'document')).toBe('passage: one, two; three');
    expect(applyInput(space.spec, 'a b', 'query')).toBe('query: a b');
    const plain = defineSpace('plain', { provider: 'hashing', model: 'm', dimension: 8 });
    const text = 'unchanged text';
    expect(applyInput(plain.spec, text, 'query')).toBe(text);
  });

  it('truncateTokens keeps the beginning (side end) or the end (side start)', () => {
    expect(truncateTokens('a b c d', 2, 'end')).toBe('a b');
    expect(truncateTokens('a b c d', 2, 'start')).toBe('c d');
    expect(truncateTokens('a b', 5, 'start')).toBe('a b');
    expect(truncateTokens('a b', null, 'end')).toBe('a b');
  });
});
