import { afterEach, describe, expect, it } from 'vitest';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../testing/openai-server.js';

// The test server itself, spoken to with plain fetch: routing, auth, request validation, seeded faults,
// clean shutdown. (The embedder's behaviour against it is in openai.test.ts / openai-faults.test.ts.)

let server: OpenAICompatibleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const embed = (text: string) => [text.length, 1, 0];

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server?.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as unknown,
  };
}

describe('startOpenAICompatibleServer', () => {
  it('listens on 127.0.0.1 only and answers OpenAI-shaped embeddings', async () => {
    server = await startOpenAICompatibleServer({ embed, apiKey: 'k-123456' });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const { status, json } = await post(
      '/v1/embeddings',
      { model: 'm', input: ['ab', 'abcd'] },
      { authorization: 'Bearer k-123456' },
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({
      object: 'list',
      model: 'm',
      data: [
        { object: 'embedding', index: 0, embedding: [2, 1, 0] },
        { object: 'embedding', index: 1, embedding: [4, 1, 0] },
      ],
      usage: { prompt_tokens: 2 },
    });
    expect(server.requests[0]).toMatchObject({
      auth: 'bearer',
      authorized: true,
      inputs: ['ab', 'abcd'],
      status: 200,
    });
    expect(server.requests[0]?.headers.authorization).toBe('[redacted]');
  });

  it('checks the key, the route, the method, the body and the Azure api-version', async () => {
    server = await startOpenAICompatibleServer({ embed, apiKey: 'k-123456', models: ['m'] });
    const auth = { 'api-key': 'k-123456' };
    expect((await post('/v1/embeddings', { model: 'm', input: 'x' })).status).toBe(401);
    expect((await post('/v1/embeddings', { model: 'm', input: 'x' }, { 'api-key': 'nope' })).status).toBe(
      401,
    );
    expect((await post('/v1/nothing', { model: 'm', input: 'x' }, auth)).status).toBe(404);
    expect((await post('/v1/embeddings', '{not json', auth)).status).toBe(400);
    expect((await post('/v1/embeddings', { model: 'm', input: [[1, 2]] }, auth)).status).toBe(400);
    expect((await post('/v1/embeddings', { model: 'm', input: [] }, auth)).status).toBe(400);
    expect((await post('/v1/embeddings', { model: 'other', input: 'x' }, auth)).json).toMatchObject({
      error: { code: 'model_not_found' },
    });
    expect((await post('/openai/deployments/d/embeddings', { input: 'x' }, auth)).status).toBe(400);
    expect((await post('/openai/deployments/m/embeddings?api-version=1', { input: 'x' }, auth)).status).toBe(
      200,
    );
    expect((await fetch(`${server.url}/embeddings`)).status).toBe(405);
    const models = (await (await fetch(`${server.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['m']);
  });

  it('shortens to `dimensions` and renormalises, and serves base64 little-endian float32', async () => {
    server = await startOpenAICompatibleServer({ embed: () => [3, 4, 12] });
    const short = await post('/v1/embeddings', { model: 'm', input: 'x', dimensions: 2 });
    expect(short.json).toMatchObject({ data: [{ embedding: [0.6, 0.8] }] });
    expect((await post('/v1/embeddings', { model: 'm', input: 'x', dimensions: 4 })).status).toBe(400);
    const b64 = await post('/v1/embeddings', { model: 'm', input: 'x', encoding_format: 'base64' });
    const bytes = Buffer.from(
      (b64.json as { data: { embedding: string }[] }).data[0]?.embedding ?? '',
      'base64',
    );
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4), bytes.readFloatLE(8)]).toEqual([3, 4, 12]);
  });

  it('plays a script, then seeded rate faults, reproducibly', async () => {
    const run = async () => {
      server = await startOpenAICompatibleServer({
        embed,
        faults: {
          script: [{ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, null],
          rate: { probability: 0.5, faults: [{ kind: 'status', status: 503 }], seed: 42 },
        },
      });
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 12; i++) {
        const r = await post('/v1/embeddings', { model: 'm', input: 'x' });
        statuses.push(r.status);
        if (i === 0) retryAfter = r.headers.get('retry-after');
      }
      await server.close();
      return { statuses, retryAfter };
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.statuses.slice(0, 2)).toEqual([429, 200]);
    expect(a.retryAfter).toBe('1');
    expect(a.statuses.slice(2)).toContain(503);
    expect(a.statuses.slice(2)).toContain(200);
  });

  it('shuffles without losing indices, and closes promptly with a slow request pending', async () => {
    server = await startOpenAICompatibleServer({ embed, faults: { script: [{ kind: 'shuffle' }] } });
    const { json } = await post('/v1/embeddings', { model: 'm', input: ['a', 'bb', 'ccc', 'dddd'] });
    const data = (json as { data: { index: number; embedding: number[] }[] }).data;
    expect(data.map((d) => d.index)).not.toEqual([0, 1, 2, 3]);
    expect(data.every((d) => d.embedding[0] === d.index + 1)).toBe(true);
    server.setFaults({ script: [{ kind: 'delay', ms: 60_000 }] });
    const pending = post('/v1/embeddings', { model: 'm', input: 'x' }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
