import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastSearchBody } from '../../src/server/fast-search.js';
import { SearchRequest } from '../../src/server/schemas.js';
import { testServer } from './helpers.js';

/**
 * The search route's shortcut past zod must never accept what `SearchRequest` refuses, and must answer
 * exactly what the schema would when it accepts; everything else falls back to the schema.
 */
const edgeString = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    '',
    'x'.repeat(512),
    'x'.repeat(513),
    'y'.repeat(32_768),
    'y'.repeat(32_769),
    '\u0000',
    '💥',
  ),
);
const anyValue = fc.oneof(
  edgeString,
  fc.integer({ min: -5, max: 1005 }),
  fc.constantFrom(0, 1, 1000, 1001, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 10),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.double(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);
const key = fc.constantFrom(
  'text',
  'k',
  'exact',
  'routingKey',
  'vector',
  'space',
  'filter',
  '__proto__',
  'constructor',
  'Text',
  'extra',
);
const body = fc.oneof(
  fc.dictionary(key, anyValue, { maxKeys: 5 }),
  fc.record(
    { text: edgeString, k: anyValue, exact: anyValue, routingKey: anyValue },
    { requiredKeys: ['text'] },
  ),
  anyValue,
);

describe('fastSearchBody', () => {
  it('accepts only what SearchRequest accepts, with the same result', () => {
    fc.assert(
      fc.property(body, (value) => {
        const fast = fastSearchBody(value);
        if (fast === undefined) return;
        const schema = SearchRequest.safeParse(value);
        expect(schema.success).toBe(true);
        expect(fast).toStrictEqual(schema.success ? schema.data : null);
      }),
      { numRuns: 20_000 },
    );
  });

  it('the same holds for bodies as they arrive: parsed JSON, including __proto__ keys', () => {
    for (const raw of [
      '{"text":"a","__proto__":{"k":5}}',
      '{"__proto__":null,"text":"a"}',
      '{"text":"a","k":10.0}',
      '{"text":"a","k":1e3}',
      '{"text":"a","k":1001}',
      '{"text":"","k":1}',
    ]) {
      const value: unknown = JSON.parse(raw);
      const fast = fastSearchBody(value);
      if (fast !== undefined) expect(fast).toStrictEqual(SearchRequest.parse(value));
    }
  });

  it('takes the shortcut for the common text search', () => {
    expect(fastSearchBody({ text: 'rank fusion', k: 10 })).toStrictEqual({ text: 'rank fusion', k: 10 });
    expect(fastSearchBody({ text: 'x', exact: true, routingKey: 'u1' })).toStrictEqual({
      text: 'x',
      exact: true,
      routingKey: 'u1',
    });
    expect(fastSearchBody({ text: 'x', filter: { tenant: 't1' } })).toBeUndefined();
  });

  it('through the server: refusals are the schema typed errors, and the document still has the schema', async () => {
    const s = await testServer();
    try {
      const key = s.keys.reader as string;
      const cases: [unknown, RegExp][] = [
        [{ text: '' }, /text/],
        [{ text: 'a', k: 0 }, /k/],
        [{ text: 'a', extra: 1 }, /extra/],
        [{}, /exactly one of text or vector/],
        [{ vector: [1, 2] }, /space/],
      ];
      for (const [b, message] of cases) {
        const reply = await s.call('POST', '/v1/aliases/docs/search', { key, body: b });
        expect(reply.status, reply.text).toBe(400);
        const error = (reply.json as { error: { code: string; message: string } }).error;
        expect(error.code).toBe('INVALID_INPUT');
        expect(error.message).toMatch(/^Invalid request body: /);
        expect(error.message).toMatch(message);
      }
      const badAlias = await s.call('POST', '/v1/aliases/Bad..Name/search', { key, body: { text: 'a' } });
      expect(badAlias.status).toBe(400);
      expect(badAlias.text).toContain('Invalid path: alias');
      const ok = await s.call('POST', '/v1/aliases/docs/search', {
        key,
        body: { text: 'rank fusion', k: 2 },
      });
      expect(ok.status).toBe(200);
      expect((ok.json as { hits: unknown[] }).hits).toHaveLength(2);
      const doc = (await s.call('GET', '/openapi.json')).json as {
        paths: Record<
          string,
          Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
        >;
      };
      const op = doc.paths['/v1/aliases/{alias}/search']?.post;
      expect(op?.requestBody?.content['application/json']?.schema).toEqual({
        $ref: '#/components/schemas/SearchRequest',
      });
    } finally {
      await s.close();
    }
  });
});
