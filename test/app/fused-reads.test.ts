import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reembed } from '../../src/app/reembed.js';
import type { Embedder } from '../../src/ports/embedder.js';
import { type tempApp, twoSpaceApp, V1, V2 } from './helpers.js';

/**
 * The two reads of a fused query (one per space) run at the same time: the query pays the slower of the
 * two, not their sum. Each side's embedder here waits until the other side's has started, so reads run one
 * after the other never meet and the query fails instead of passing slowly.
 */
let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v1 = V1;
const v2 = V2;

beforeEach(async () => {
  ctx = await twoSpaceApp({ v2Namespace: true });
  app = ctx.app;
  await app.backend.catalog.setAlias(
    'docs',
    'docs',
    { kind: 'fused', primary: 'docs@v1', next: 'docs@v2', fusion: { method: 'coverage-aware-score' } },
    'test',
  );
});
afterEach(async () => ctx.cleanup());

/** Embedders of both spaces that each answer only once the other has been asked too (or fail after 5 s). */
async function meetingEmbedders(): Promise<string[]> {
  const started: string[] = [];
  let bothStarted: () => void = () => {};
  const met = new Promise<void>((resolve) => {
    bothStarted = resolve;
  });
  for (const space of [v1, v2]) {
    const inner = await app.embedders.get((await app.backend.catalog.getSpace(space.name)) ?? space);
    const meeting: Embedder = {
      space: inner.space,
      maxBatchSize: inner.maxBatchSize,
      countTokens: (text) => inner.countTokens(text),
      embed: async (texts, options) => {
        started.push(space.name);
        if (new Set(started).size === 2) bothStarted();
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the ${space.name} read waited alone: the reads ran one after the other`)),
            5000,
          );
        });
        await Promise.race([met, late]).finally(() => clearTimeout(timer));
        return inner.embed(texts, options);
      },
    };
    app.embedders.set(inner.space, meeting);
  }
  return started;
}

describe('fused reads', () => {
  it('embed and read both namespaces at the same time', async () => {
    const started = await meetingEmbedders();
    const response = await app.search('docs', { text: 'deleted document backfill tombstone', k: 3 });
    expect(response.hits).toHaveLength(3);
    // The query's embeds come first, one per space (embed-on-read may embed documents in v2 after).
    expect(started.slice(0, 2).sort()).toEqual(['v1', 'v2']);
  });
});
