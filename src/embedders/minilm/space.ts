import { defineSpace, type Space, type SpaceSpecInput } from '../../core/space.js';
import { specOfIdentity } from '../model-identity.js';
import { MINILM_IDENTITY, MINILM_PROVIDER } from './pinned.js';

export interface MinilmOptions {
  /** Model threads (one model copy each, ~100 MB). Default: min(2, available cores). */
  readonly threads?: number;
  /** Texts per thread task. Default 16 (about 10 s of work at 256 tokens on one core). */
  readonly taskSize?: number;
}

/** The spec of the live model's space (equal to that of its stored vectors: see `model-identity.ts`). */
export function minilmSpec(): SpaceSpecInput {
  return specOfIdentity(MINILM_IDENTITY, MINILM_PROVIDER);
}

/**
 * The space of all-MiniLM-L6-v2 as reembed runs it (provider `minilm`): the same fingerprint as the
 * vectors in ../shared/datasets/<set>/embeddings/minilm-l6-v2, which were computed exactly this way.
 *
 * @example
 * const space = minilmSpace('minilm');
 * await app.addSpace(space);
 */
export function minilmSpace(name: string, options: MinilmOptions = {}): Space {
  return defineSpace(name, minilmSpec(), {
    options: {
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.taskSize !== undefined ? { taskSize: options.taskSize } : {}),
    },
  });
}
