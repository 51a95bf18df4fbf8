import { describe, expect, it } from 'vitest';
import type { SourceDocument } from '../core/records.js';
import { createHashingEmbedder, hashingSpace } from '../embedders/hashing.js';
import { embedSources } from './embed-sources.js';

function doc(id: string, text: string): SourceDocument {
  return Object.freeze({
    collection: 'docs',
    id,
    text,
    metadata: {},
    tenant: null,
    contentHash: `hash-${id}`,
    version: 3,
    deleted: false,
    updatedAt: '2026-11-22T00:00:00.000Z',
  });
}

describe('embedSources', () => {
  it('marks a write whose one chunk is the source text (`textOfSource`), and only such a write', async () => {
    const whole = createHashingEmbedder(hashingSpace('whole', { dimension: 16 }));
    const writes = await embedSources(whole, [
      doc('clean', 'already clean text'),
      doc('spaced', '  text  that v1 preprocessing changes '),
    ]);
    expect(writes[0]).toMatchObject({ sourceId: 'clean', textOfSource: { collection: 'docs' } });
    expect(writes[0]?.chunks.map((c) => c.text)).toEqual(['already clean text']);
    // Preprocessing changed the text: the chunk is not the source's text, so it is sent as it is.
    expect(writes[1]?.chunks.map((c) => c.text)).toEqual(['text that v1 preprocessing changes']);
    expect(writes[1]).not.toHaveProperty('textOfSource');

    const chunked = createHashingEmbedder(
      hashingSpace('chunked', { dimension: 16, chunker: { kind: 'tokens', size: 2 } }),
    );
    const [split, single] = await embedSources(chunked, [
      doc('long', 'one two three four'),
      doc('short', 'one'),
    ]);
    expect(split?.chunks.length).toBe(2);
    expect(split).not.toHaveProperty('textOfSource');
    // A document the chunker leaves whole is marked like an unchunked one.
    expect(single?.chunks.map((c) => c.text)).toEqual(['one']);
    expect(single).toMatchObject({ textOfSource: { collection: 'docs' } });
  });
});
