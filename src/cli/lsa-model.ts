import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { documentChunks } from '../core/pipeline.js';
import { defineSpace, type Space, type SpaceSpec } from '../core/space.js';
import { fitLsaSteps } from '../embedders/lsa.js';
import { saveLsaModel } from '../embedders/lsa-file.js';
import { type LsaSpaceOptions, lsaSpace } from '../embedders/lsa-space.js';
import { runInSteps } from '../platform/steps.js';

/**
 * Fitting an LSA space from the CLI: the model file goes to `<dataDir>/.reembed/models/<space>.lsa`, and
 * the space records that path relative to the data directory, so the database and its models can be
 * moved together.
 */
export function modelsDir(dataDir: string): string {
  return join(dataDir, '.reembed', 'models');
}

/** A path as a space should record it: relative to `dataDir` when inside it, absolute otherwise. */
export function recordedModelPath(dataDir: string, path: string): string {
  const absolute = resolve(dataDir, path);
  const rel = relative(dataDir, absolute);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : absolute;
}

/** Re-points a space's `runtime.options.modelPath` (runtime only: the fingerprint does not change). */
export function withModelPath(space: Space, modelPath: string): Space {
  return defineSpace(space.name, space.spec, {
    ...space.runtime,
    options: { ...space.runtime.options, modelPath },
  });
}

export interface FitLsaSpaceInput {
  readonly name: string;
  readonly dataDir: string;
  /** Document texts (before preprocessing and chunking: the space's pipeline is applied here). */
  readonly texts: Iterable<string>;
  readonly dimension: number;
  readonly seed?: number;
  /** Geometry fields besides the model (metric, chunker, preprocessing ...). */
  readonly spec?: LsaSpaceOptions;
}

export interface FittedLsaSpace {
  readonly space: Space;
  /** Absolute path of the saved model file. */
  readonly path: string;
  readonly documents: number;
  readonly terms: number;
  readonly seconds: number;
}

/**
 * Fits LSA on the texts the space's own pipeline produces (preprocessed, chunked), saves the model and
 * returns the space over it.
 *
 * @example
 * const { space } = fitLsaSpace({ name: 'lsa-v2', dataDir, texts, dimension: 256, seed: 1 });
 * await app.addSpace(space);
 */
export function fitLsaSpace(input: FitLsaSpaceInput): FittedLsaSpace {
  const steps = fitLsaSpaceSteps(input);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `fitLsaSpace` that returns to the event loop between small units of the fit (well under a second each
 * on a few thousand documents), so an interrupt is seen at once: aborted, it throws `ABORTED` and saves
 * nothing. The fit is synchronous arithmetic: without these turns no SIGINT handler could run until it ended.
 */
export async function fitLsaSpaceResponsively(
  input: FitLsaSpaceInput,
  signal?: AbortSignal,
): Promise<FittedLsaSpace> {
  return runInSteps(
    fitLsaSpaceSteps(input),
    signal,
    (after) => `Fitting LSA was interrupted (after ${after}); nothing was saved.`,
  );
}

function* fitLsaSpaceSteps(input: FitLsaSpaceInput): Generator<string, FittedLsaSpace> {
  const started = performance.now();
  const pipeline: Pick<SpaceSpec, 'preprocessing' | 'chunker'> = {
    preprocessing: input.spec?.preprocessing ?? 'v1',
    chunker: input.spec?.chunker ?? { kind: 'none' },
  };
  const chunks: string[] = [];
  let documents = 0;
  for (const text of input.texts) {
    documents++;
    for (const chunk of documentChunks(pipeline, String(documents), text)) chunks.push(chunk.text);
  }
  yield 'chunked';
  const model = yield* fitLsaSteps(chunks, { dimension: input.dimension, seed: input.seed ?? 0 });
  const dir = modelsDir(input.dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${input.name}.lsa`);
  saveLsaModel(model, path);
  const space = withModelPath(
    lsaSpace(input.name, path, model, input.spec ?? {}),
    recordedModelPath(input.dataDir, path),
  );
  return { space, path, documents, terms: model.terms.length, seconds: (performance.now() - started) / 1000 };
}
