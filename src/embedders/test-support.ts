import { afterEach } from 'vitest';
import { isReembedError, type ReembedError } from '../core/errors.js';
import { defineSpace, type Space, type SpaceSpecInput } from '../core/space.js';
import {
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
  startOpenAICompatibleServer,
} from '../testing/openai-server.js';

/**
 * Shared by the OpenAI-compatible embedder's tests (not built into dist): the fake provider's model, the
 * spaces that call it and the error a call ends in.
 */

/** A deterministic toy model: FNV-1a of the text seeds a small xorshift stream. Never the zero vector. */
export function toy(text: string, dimension = 8): Float32Array {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ (ch.codePointAt(0) as number), 0x01000193);
  const v = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    v[i] = ((h >>> 0) / 0xffffffff) * 2 - 1 + 0.01;
  }
  return v;
}

/**
 * A space of an OpenAI-compatible provider (by default `openai`, model `toy`, 8 dimensions; `spec` overrides
 * any field) with `options` as its runtime options, unchecked so a test can pass what the schema refuses.
 */
export function remoteSpace(
  name: string,
  spec: Partial<SpaceSpecInput>,
  options: Record<string, unknown>,
): Space {
  return defineSpace(
    name,
    { provider: 'openai', model: 'toy', dimension: 8, ...spec },
    { options: options as never },
  );
}

/** The `ReembedError` a promise rejects with (anything else fails the test). */
export async function rejection(promise: Promise<unknown>): Promise<ReembedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isReembedError(error)) throw new Error(`expected a ReembedError, got ${String(error)}`);
  return error;
}

/** Starts the test provider on 127.0.0.1; every server a test started is closed after it. */
export function useOpenAIServers(): (
  options: OpenAICompatibleServerOptions,
) => Promise<OpenAICompatibleServer> {
  const open: OpenAICompatibleServer[] = [];
  afterEach(async () => {
    for (const server of open.splice(0)) await server.close();
  });
  return async (options) => {
    const server = await startOpenAICompatibleServer(options);
    open.push(server);
    return server;
  };
}
