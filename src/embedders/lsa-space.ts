import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ReembedError } from '../core/errors.js';
import { defineSpace, type Space, type SpaceSpecInput } from '../core/space.js';
import { bytesRevision, fileRevision, specError } from './common.js';
import type { LsaModel } from './lsa.js';
import { decodeLsaModel, encodeLsaModel, type LoadedLsaModel, loadLsaModel } from './lsa-file.js';

/**
 * Spaces over LSA model files. The model file's sha256 is the space's `revision`; the params record how
 * the model was fitted (for humans and manifests — the revision already pins the geometry).
 */
export type LsaParams = Readonly<Record<string, string | number>>;

export function lsaParamsOf(model: LsaModel): LsaParams {
  return {
    scaling: model.scaling,
    seed: model.fit.seed,
    minDf: model.fit.minDf,
    maxVocab: model.fit.maxVocab,
    terms: model.terms.length,
    documents: model.fit.documents,
  };
}

export interface LsaSpaceOptions
  extends Partial<Omit<SpaceSpecInput, 'provider' | 'dimension' | 'revision' | 'params'>> {}

/**
 * A space over a saved LSA model. `model` must be the model saved at `modelPath` (checked); when omitted
 * it is loaded from the file. `runtime.options.modelPath` keeps `modelPath` as given.
 *
 * @example
 * const model = fitLsa(texts, { dimension: 256, seed: 1 });
 * saveLsaModel(model, 'models/scifact-lsa-256.bin');
 * const v2 = lsaSpace('lsa-v2', 'models/scifact-lsa-256.bin', model);
 */
export function lsaSpace(
  name: string,
  modelPath: string,
  model?: LsaModel,
  options: LsaSpaceOptions = {},
): Space {
  let resolved: LsaModel;
  let revision: string;
  if (model === undefined) {
    const loaded = loadLsaModel(modelPath);
    resolved = loaded.model;
    revision = loaded.revision;
  } else {
    revision = fileRevision(modelPath);
    if (bytesRevision(encodeLsaModel(model)) !== revision) {
      throw new ReembedError(
        'INVALID_INPUT',
        `The LSA model passed to lsaSpace("${name}") is not the one saved at ${modelPath}. ` +
          'Save it with saveLsaModel(model, path) first, or omit the model to use the file.',
        { details: { path: modelPath } },
      );
    }
    resolved = model;
  }
  return defineSpace(
    name,
    {
      model: `tfidf-svd-${basename(modelPath).replace(/\.[^.]*$/, '')}`.slice(0, 200),
      ...options,
      provider: 'lsa',
      revision,
      dimension: resolved.dimension,
      params: lsaParamsOf(resolved),
    },
    { options: { modelPath } },
  );
}

const cache = new Map<string, LoadedLsaModel>();

/**
 * Loads the model of an LSA space from `absolutePath` and refuses it unless its hash equals
 * `space.spec.revision` and its fit matches the space's params. The file is re-hashed on every call, so
 * a model replaced in place is always caught; decoding is cached per path and hash.
 */
export function verifiedLsaModel(space: Space, absolutePath: string): LsaModel {
  const bytes = readModelBytes(absolutePath);
  const revisionNow = bytesRevision(bytes);
  let loaded = cache.get(absolutePath);
  if (loaded?.revision !== revisionNow) {
    loaded = { model: decodeLsaModel(bytes, absolutePath), revision: revisionNow };
    cache.set(absolutePath, loaded);
  }
  const { model, revision } = loaded;
  if (revision !== space.spec.revision) {
    throw new ReembedError(
      'INVALID_SPEC',
      `The LSA model file ${absolutePath} has revision ${revision}, but space "${space.name}" was defined with ` +
        `revision ${space.spec.revision}: the model file changed, so its vectors would be a different space. ` +
        'Restore the original file, or define a new space with lsaSpace() and migrate to it.',
      { details: { space: space.name, path: absolutePath, expected: space.spec.revision, actual: revision } },
    );
  }
  const expected = lsaParamsOf(model);
  for (const [key, value] of Object.entries(space.spec.params)) {
    if (!(key in expected)) {
      throw specError(
        space,
        `params.${key}`,
        `is not an LSA param (known: ${Object.keys(expected).join(', ')}).`,
      );
    }
    if (expected[key] !== value) {
      throw specError(
        space,
        `params.${key}`,
        `is ${String(value)} but the model has ${String(expected[key])}.`,
        value,
      );
    }
  }
  return model;
}

function readModelBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ReembedError('NOT_FOUND', `Cannot read LSA model file ${path}: ${(cause as Error).message}.`, {
      details: { path },
      cause,
    });
  }
}
