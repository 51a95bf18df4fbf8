import { afterEach } from 'vitest';
import { isReembedError, type ReembedError } from '../core/errors.js';
import {
  type OpenAICompatibleServer,
  type OpenAICompatibleServerOptions,
  startOpenAICompatibleServer,
} from '../testing/openai-server.js';

/**
 * Shared by the OpenAI-compatible embedder's tests (not built into dist): the fake provider's model and
 * the error a call ends in.
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
