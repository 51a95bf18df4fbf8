import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { type TestServer, testServer } from './helpers.js';

/**
 * At least 10,000 malformed requests against a real server on 127.0.0.1: wrong types, unknown fields,
 * invalid vectors, numbers JSON cannot hold, unicode edge cases, bodies over the limit, path traversal
 * and invalid names in paths, junk keys. Every answer is a 4xx with a typed error body; never a 5xx;
 * the server keeps answering.
 */
const RUNS = 10_000;
const MAX_BODY = 64 * 1024;
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const REF = /^(?:mig_[A-Za-z0-9@._-]{1,160}|[a-z0-9][a-z0-9._-]{0,62})$/;

const unicode = fc.constantFrom(
  '\ud800',
  '\udfff',
  '\u0000',
  '\u200b',
  '\u202e',
  '\ufeff',
  'e\u0301',
  '𝔘𝔫𝔦',
  '👩‍👩‍👧',
  '\uffff',
);
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  unicode,
  fc.constantFrom(
    '../../etc/passwd',
    '..%2f..%2fetc',
    '%00',
    'docs/../keys',
    '..',
    '.',
    '~',
    'DOCS',
    ' docs',
  ),
);
const badName = nastyString.filter((s) => !NAME.test(s) && !REF.test(s));
const notAnInt = fc.oneof(
  fc.string(),
  fc.double({ noInteger: true }),
  fc.integer({ max: 0 }),
  fc.integer({ min: 1001 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object({ maxDepth: 1 }),
);
const badVector = fc.oneof(
  fc.constant([]),
  fc.array(fc.string(), { minLength: 1, maxLength: 8 }),
  fc.array(fc.array(fc.double()), { minLength: 1, maxLength: 3 }),
  fc
    .array(fc.oneof(fc.double(), fc.constant(null)), { minLength: 1, maxLength: 8 })
    .filter((v) => v.includes(null)),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }), // wrong dimension (64)
  fc.constant(Array.from({ length: 16_001 }, (_, i) => i / 16_001)), // over the largest dimension
  fc.string(),
);

interface Attempt {
  method: string;
  path: string;
  key?: string;
  /** Raw body text (already serialised, possibly not JSON). */
  body?: string;
  contentType?: string;
}

const json = (v: unknown) => JSON.stringify(v);

/** Percent-encodes; a lone surrogate (which has no UTF-8) becomes an invalid UTF-8 sequence instead. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return `${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`;
  }
}

/** Search requests broken in exactly one way (a valid search is `{ "text": "..." }`). */
const badSearch = fc.oneof(
  fc
    .record({
      k: fc
        .string({ minLength: 1 })
        .filter((k) => !['text', 'vector', 'space', 'k', 'filter', 'routingKey', 'exact'].includes(k)),
      v: fc.jsonValue(),
    })
    .map(({ k, v }) => json({ text: 'embedding', [k]: v })),
  notAString.map((v) => json({ text: v })),
  fc.constant(json({ text: '' })),
  notAnInt.map((k) => json({ text: 'x', k })),
  badVector.map((vector) => json({ vector, space: 'v1' })),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((d) => json({ vector: [d], space: 'v1', text: 'both' })),
  fc
    .array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 64, maxLength: 64 })
    .map((v) => json({ vector: v })), // no space
  fc.constantFrom(
    '{"vector":[1e400],"space":"v1"}',
    '{"vector":[NaN],"space":"v1"}',
    '{"text":"x","k":Infinity}',
    '{"text":"x"',
    '{"text":"x"}}',
    '',
    'null',
    '[]',
    '"text"',
    '{"text":"\\ud800"',
    '{"__proto__":{"x":1},"text":"y"}',
  ),
  fc
    .oneof(
      notAString,
      fc.record({ tenant: notAString }),
      fc.record({ metadata: fc.array(fc.string()) }),
      fc.record({ tenant: fc.constant('') }),
    )
    .map((filter) => json({ text: 'x', filter })),
  fc.record({ unknown: fc.jsonValue() }).map((filter) => json({ text: 'x', filter })),
  fc
    .jsonValue()
    .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map(json),
  fc.string().map((s) => s.replace(/^\s*\{/, '')), // not an object
  fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 2 }).map((n) => json({ text: 'y'.repeat(n) })),
);

const badUpsert = fc.oneof(
  fc.constant(json({ documents: [] })),
  notAString
    .filter((v) => typeof v !== 'number' || !Number.isInteger(v))
    .map((id) => json({ documents: [{ id, text: 'a' }] })),
  notAString.map((text) => json({ documents: [{ id: 'a', text }] })),
  fc.jsonValue().map((v) => json({ documents: [{ id: 'a', text: 't', extra: v }] })),
  fc
    .oneof(fc.string(), fc.integer(), fc.array(fc.jsonValue()))
    .map((metadata) => json({ documents: [{ id: 'a', text: 't', metadata }] })),
  fc.string({ minLength: 513, maxLength: 600 }).map((id) => json({ documents: [{ id, text: 't' }] })),
  fc
    .jsonValue()
    .map((documents) => json({ documents: Array.isArray(documents) ? [...documents, 7] : documents })),
  fc.string().map((onDeleted) => json({ documents: [{ id: 'a', text: 't' }], onDeleted: `${onDeleted}!` })),
);

const badDelete = fc.oneof(
  fc.constant(json({ ids: [] })),
  fc.array(notAString, { minLength: 1, maxLength: 4 }).map((ids) => json({ ids })),
  fc
    .jsonValue()
    .filter((v) => !Array.isArray(v))
    .map((ids) => json({ ids })),
  fc.jsonValue().map((v) => json({ ids: ['a'], more: v })),
);

/** Endpoint templates with their parameters; the body of any POST/PUT gets an unknown field. */
const TEMPLATES: readonly [string, string, 'query' | 'none'][] = [
  ['GET', '/v1/namespaces', 'query'],
  ['GET', '/v1/aliases', 'query'],
  ['GET', '/v1/aliases/{p}', 'none'],
  ['GET', '/v1/status', 'query'],
  ['GET', '/v1/monitor', 'query'],
  ['POST', '/v1/migrations/plan', 'none'],
  ['POST', '/v1/migrations', 'none'],
  ['GET', '/v1/migrations', 'query'],
  ['GET', '/v1/migrations/{p}', 'none'],
  ['POST', '/v1/migrations/{p}/step', 'none'],
  ['POST', '/v1/migrations/{p}/cutover', 'none'],
  ['POST', '/v1/migrations/{p}/rollback', 'none'],
  ['POST', '/v1/migrations/{p}/finish', 'none'],
  ['POST', '/v1/eval', 'none'],
  ['PUT', '/v1/golden-sets/{p}', 'none'],
  ['DELETE', '/v1/golden-sets/{p}', 'none'],
  ['GET', '/v1/audit', 'query'],
  ['POST', '/v1/keys', 'none'],
  ['DELETE', '/v1/keys/{p}', 'none'],
  ['POST', '/v1/aliases/{p}/search', 'none'],
  ['POST', '/v1/collections/{p}/documents', 'none'],
];

let s: TestServer;
beforeAll(async () => {
  s = await testServer({ rateLimit: { perSecond: 0 }, maxBodyBytes: MAX_BODY });
}, 30_000);
afterAll(async () => {
  await s.close();
});

function attempts(): fc.Arbitrary<Attempt> {
  const admin = s.keys.admin as string;
  const key = fc.oneof(
    { weight: 8, arbitrary: fc.constant(admin) },
    { weight: 1, arbitrary: nastyString.map((k) => k.replace(/[\r\n]/g, '')) },
    { weight: 1, arbitrary: fc.constant(`${admin.slice(0, -1)}A`) },
  );
  const encode = (p: string, raw: boolean) => (raw ? p : enc(p));
  const search = fc
    .record({ key, body: badSearch, alias: fc.constantFrom('docs', 'nope') })
    .map(
      (a): Attempt => ({ method: 'POST', path: `/v1/aliases/${a.alias}/search`, key: a.key, body: a.body }),
    );
  const upsert = fc
    .record({ key, body: badUpsert })
    .map(
      (a): Attempt => ({ method: 'POST', path: '/v1/collections/docs/documents', key: a.key, body: a.body }),
    );
  const del = fc.record({ key, body: badDelete }).map(
    (a): Attempt => ({
      method: 'POST',
      path: '/v1/collections/docs/documents/delete',
      key: a.key,
      body: a.body,
    }),
  );
  const badParam = fc
    .record({
      t: fc.constantFrom(...TEMPLATES.filter(([, p]) => p.includes('{p}'))),
      p: badName,
      raw: fc.boolean(),
      key,
    })
    .map(
      ({ t, p, raw, key }): Attempt => ({
        method: t[0],
        path: t[1].replace('{p}', encode(p, raw)),
        key,
        ...(t[0] === 'GET' || t[0] === 'DELETE' ? {} : { body: '{}' }),
      }),
    );
  const unknownQuery = fc
    .record({
      t: fc.constantFrom(...TEMPLATES.filter(([, , q]) => q === 'query')),
      k: fc.string({ minLength: 1 }),
      v: fc.string(),
      key,
    })
    .filter(
      ({ k }) =>
        !['collection', 'since', 'subject', 'action', 'actor', 'until', 'limit', 'alias', 'active'].includes(
          k,
        ),
    )
    .map(
      ({ t, k, v, key }): Attempt => ({
        method: t[0],
        path: `${t[1]}?${enc(k)}=${enc(v)}`,
        key,
      }),
    );
  const unknownBody = fc
    .record({
      t: fc.constantFrom(
        ...TEMPLATES.filter(
          ([m, p]) => (m === 'POST' || m === 'PUT') && !p.includes('search') && !p.includes('documents'),
        ),
      ),
      v: fc.jsonValue(),
      key,
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
      ),
    })
    .map(
      ({ t, v, key, contentType }): Attempt => ({
        method: t[0],
        path: t[1].replace('{p}', 'docs'),
        key,
        body: json({ __fuzz: v }),
        contentType,
      }),
    );
  const junkPath = fc
    .record({
      p: nastyString,
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      key,
    })
    .map(
      ({ p, method, key }): Attempt => ({
        method,
        path: `/v1/${enc(p)}/x/${enc(p)}`,
        key,
      }),
    );
  return fc.oneof(
    { weight: 4, arbitrary: search },
    { weight: 2, arbitrary: upsert },
    { weight: 1, arbitrary: del },
    { weight: 2, arbitrary: badParam },
    { weight: 1, arbitrary: unknownQuery },
    { weight: 2, arbitrary: unknownBody },
    { weight: 1, arbitrary: junkPath },
  );
}

async function send(a: Attempt): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (a.key !== undefined) {
    try {
      new Headers({ authorization: `Bearer ${a.key}` });
      headers.authorization = `Bearer ${a.key}`;
    } catch {
      headers.authorization = 'Bearer junk';
    }
  }
  if (a.body !== undefined) headers['content-type'] = a.contentType ?? 'application/json';
  const res = await fetch(`${s.url}${a.path}`, {
    method: a.method,
    headers,
    ...(a.body !== undefined ? { body: a.body } : {}),
  });
  return { status: res.status, text: await res.text() };
}

describe('fuzz', () => {
  it(`${RUNS} malformed requests: every answer is a typed 4xx, never a 5xx, and the server stays up`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(attempts(), async (a) => {
        const { status, text } = await send(a);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        return (
          status >= 400 &&
          status < 500 &&
          typeof body.error?.message === 'string' &&
          (ERROR_CODES as readonly unknown[]).includes(body.error.code)
        );
      }),
      { numRuns: RUNS, seed: 15 },
    );
    // The mix really exercised validation, not only the key check.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 4);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
    expect((await s.call('GET', '/healthz')).status).toBe(200);
    const ok = await s.call('POST', '/v1/aliases/docs/search', {
      key: s.keys.reader,
      body: { text: 'fusion', k: 2 },
    });
    expect(ok.status).toBe(200);
  }, 300_000);
});
