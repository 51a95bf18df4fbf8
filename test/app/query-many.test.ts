import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueryEngine } from '../../src/app/query.js';
import { type NamespaceAnswer, queryNamespaceMany } from '../../src/app/query-many.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { DOCS, tempApp } from './helpers.js';

/** Batched text queries of a namespace (golden gates) answer what one `queryNamespace` call each answers. */
describe('queryNamespaceMany', () => {
  let ctx: Awaited<ReturnType<typeof tempApp>>;
  beforeEach(async () => {
    ctx = await tempApp();
    await ctx.app.addSpace(hashingSpace('v1', { dimension: 64 }));
    await ctx.app.createCollection('docs', 'v1');
    await ctx.app.ingest('docs', DOCS);
  });
  afterEach(() => ctx.cleanup());

  it('gives each query its hits or the error queryNamespace gives it alone', async () => {
    const queries = new QueryEngine(ctx.app.backend, ctx.app.embedders);
    const app = { backend: ctx.app.backend, embedders: ctx.app.embedders, queries };
    const texts = [
      ...DOCS.slice(0, 5).map((d) => d.text.split(' ').slice(0, 4).join(' ')),
      '',
      '!!! ...', // no token: a zero vector under cosine
      DOCS[1]?.text ?? '',
    ];
    const requests = texts.map((text, i) => ({ text, k: 1 + (i % 4), exact: i % 2 === 0 }));
    const batched = await queryNamespaceMany(app, 'docs@v1', requests);
    const alone: NamespaceAnswer[] = [];
    for (const r of requests) {
      try {
        alone.push({ hits: (await queries.queryNamespace('docs@v1', r)).hits });
      } catch (error) {
        alone.push({ error });
      }
    }
    expect(batched).toHaveLength(requests.length);
    batched.forEach((answer, i) => {
      const expected = alone[i] as NamespaceAnswer;
      if ('error' in expected) {
        expect(answer).toHaveProperty('error');
        expect((answer as { error: { code?: string; message?: string } }).error).toMatchObject({
          code: (expected.error as { code: string }).code,
          message: (expected.error as { message: string }).message,
        });
      } else expect(answer).toEqual(expected);
    });
    expect(batched.filter((a) => 'error' in a)).toHaveLength(2);
    expect(batched.filter((a) => 'hits' in a && a.hits.length > 0)).toHaveLength(requests.length - 2);
  });
});
