import { resolve } from 'node:path';
import { ReembedError } from '../core/errors.js';
import {
  type ChunkerSpec,
  defineSpace,
  type Metric,
  type Space,
  type SpaceSpecInput,
} from '../core/space.js';
import { readCorpusTexts } from '../corpus/reader.js';
import { hashingSpace } from '../embedders/hashing.js';
import { lsaSpace } from '../embedders/lsa-space.js';
import { minilmSpace } from '../embedders/minilm/embedder.js';
import type { StoredFallback } from '../embedders/stored-vectors/factory.js';
import { storedVectorsSpace } from '../embedders/stored-vectors/space.js';
import { wordVectorSpace } from '../embedders/word-vectors.js';
import { fitLsaSpace, recordedModelPath, withModelPath } from './lsa-model.js';

/** Providers `reembed space add` knows how to describe. */
export const CLI_PROVIDERS = [
  'hashing',
  'lsa',
  'word-vectors',
  'openai-compatible',
  'minilm',
  'stored-vectors',
] as const;
export type CliProvider = (typeof CLI_PROVIDERS)[number];

/** `reembed space add` arguments, already parsed by commander's argParsers. */
export interface SpaceAddArgs {
  readonly name: string;
  readonly provider: CliProvider;
  readonly model?: string;
  readonly dimension?: number;
  readonly metric?: Metric;
  readonly normalization?: 'l2' | 'none';
  readonly revision?: string;
  readonly seed?: number;
  readonly ngrams?: 1 | 2;
  readonly sublinear?: boolean;
  readonly chunker?: ChunkerSpec;
  readonly preprocessing?: string;
  readonly queryPrefix?: string;
  readonly documentPrefix?: string;
  readonly maxTokens?: number;
  readonly modelPath?: string;
  readonly fitOn?: string;
  readonly baseUrl?: string;
  readonly apiKeyEnv?: string;
  readonly pricePer1m?: number;
  readonly requestDimensions?: boolean;
  /** stored-vectors: the folder holding MANIFEST.json and the vector files. */
  readonly from?: string;
  /** stored-vectors: the folder of the source corpus.jsonl / queries.jsonl. */
  readonly source?: string;
  /** stored-vectors: what to do with a text the folder does not hold. */
  readonly fallback?: StoredFallback;
  /** Extra spec params (`--param key=value`), part of the fingerprint. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Extra runtime options (`--option key=value`), never part of the fingerprint. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface BuiltSpace {
  readonly space: Space;
  /** Set when an LSA model was fitted: where it was saved and on how much text. */
  readonly fitted?: {
    readonly path: string;
    readonly documents: number;
    readonly terms: number;
    readonly seconds: number;
  };
}

/** Fields every provider shares: they go into the fingerprint. */
function geometry(args: SpaceAddArgs): Partial<SpaceSpecInput> {
  return {
    ...(args.metric ? { metric: args.metric } : {}),
    ...(args.normalization ? { normalization: args.normalization } : {}),
    ...(args.chunker ? { chunker: args.chunker } : {}),
    ...(args.preprocessing ? { preprocessing: args.preprocessing } : {}),
    ...(args.queryPrefix !== undefined || args.documentPrefix !== undefined
      ? { inputType: { query: args.queryPrefix ?? '', document: args.documentPrefix ?? '' } }
      : {}),
    ...(args.maxTokens !== undefined
      ? { truncation: { maxTokens: args.maxTokens, side: 'end' as const } }
      : {}),
  };
}

function refuse(provider: string, flags: Record<string, unknown>): void {
  const given = Object.entries(flags)
    .filter(
      ([, v]) =>
        v !== undefined &&
        v !== false &&
        !(typeof v === 'object' && v !== null && Object.keys(v).length === 0),
    )
    .map(([k]) => k);
  if (given.length > 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${given.join(', ')} do(es) not apply to provider ${provider}; remove them.`,
      {
        details: { provider, options: given },
      },
    );
  }
}

function required<T>(value: T | undefined, flag: string, provider: string): T {
  if (value === undefined) {
    throw new ReembedError('INVALID_INPUT', `Provider ${provider} needs ${flag}.`, {
      details: { provider, option: flag },
    });
  }
  return value;
}

/**
 * Builds the space `reembed space add` describes. For `lsa --fit-on`, fits and saves the model first
 * (into `<dataDir>/.reembed/models`); model files given with `--model-path` are recorded relative to the
 * data directory when they live inside it, absolute otherwise.
 */
export async function buildSpace(args: SpaceAddArgs, dataDir: string, cwd: string): Promise<BuiltSpace> {
  const runtime = {
    ...(args.pricePer1m !== undefined ? { pricePerMillionTokens: args.pricePer1m } : {}),
  };
  const remote = {
    '--base-url': args.baseUrl,
    '--api-key-env': args.apiKeyEnv,
    '--request-dimensions': args.requestDimensions,
  };
  const stored = { '--from': args.from, '--source': args.source, '--fallback': args.fallback };
  if (args.provider !== 'stored-vectors') refuse(args.provider, stored);
  switch (args.provider) {
    case 'minilm':
    case 'stored-vectors': {
      // The geometry of these spaces is fixed by the model (or the folder's manifest), not by flags.
      refuse(args.provider, {
        ...remote,
        '--model': args.model,
        '--metric': args.metric,
        '--normalization': args.normalization,
        '--revision': args.revision,
        '--seed': args.seed,
        '--ngrams': args.ngrams,
        '--sublinear': args.sublinear,
        '--chunker': args.chunker,
        '--preprocessing': args.preprocessing,
        '--query-prefix': args.queryPrefix,
        '--document-prefix': args.documentPrefix,
        '--max-tokens': args.maxTokens,
        '--model-path': args.modelPath,
        '--fit-on': args.fitOn,
        '--param': args.params,
      });
      const space =
        args.provider === 'minilm'
          ? minilmSpace(args.name)
          : await storedVectorsSpace(
              args.name,
              resolve(cwd, required(args.from, '--from DIR', 'stored-vectors')),
              {
                ...(args.source !== undefined ? { sourceDir: resolve(cwd, args.source) } : {}),
                ...(args.fallback !== undefined ? { fallback: args.fallback } : {}),
                recordAs: recordedModelPath(dataDir, resolve(cwd, args.from as string)),
              },
            );
      assertDimension(space, args.dimension);
      return { space: withRuntime(space, runtime, recordedSource(space, dataDir, args.options)) };
    }
    case 'hashing': {
      refuse('hashing', {
        ...remote,
        '--model': args.model,
        '--model-path': args.modelPath,
        '--fit-on': args.fitOn,
        '--param': args.params,
        '--revision': args.revision,
      });
      const space = hashingSpace(args.name, {
        ...geometry(args),
        dimension: required(args.dimension, '--dimension', 'hashing'),
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
        ...(args.ngrams !== undefined ? { ngrams: args.ngrams } : {}),
        ...(args.sublinear ? { sublinear: true } : {}),
      });
      return { space: withRuntime(space, runtime, args.options) };
    }
    case 'lsa': {
      refuse('lsa', {
        ...remote,
        '--ngrams': args.ngrams,
        '--sublinear': args.sublinear,
        '--param': args.params,
        '--revision': args.revision,
      });
      if ((args.fitOn === undefined) === (args.modelPath === undefined)) {
        throw new ReembedError(
          'INVALID_INPUT',
          'Provider lsa needs exactly one of --fit-on <corpus> (fit a model) or --model-path FILE (use a saved model).',
          {
            details: { provider: 'lsa' },
          },
        );
      }
      const spec = { ...geometry(args), ...(args.model ? { model: args.model } : {}) };
      if (args.fitOn !== undefined) {
        const texts = await readCorpusTexts(resolve(cwd, args.fitOn));
        const fitted = fitLsaSpace({
          name: args.name,
          dataDir,
          texts,
          dimension: required(args.dimension, '--dimension', 'lsa --fit-on'),
          ...(args.seed !== undefined ? { seed: args.seed } : {}),
          spec,
        });
        return { space: withRuntime(fitted.space, runtime, args.options), fitted };
      }
      refuse('lsa --model-path', { '--seed': args.seed });
      const file = resolve(cwd, args.modelPath as string);
      const space = withModelPath(
        lsaSpace(args.name, file, undefined, spec),
        recordedModelPath(dataDir, file),
      );
      assertDimension(space, args.dimension);
      return { space: withRuntime(space, runtime, args.options) };
    }
    case 'word-vectors': {
      refuse('word-vectors', {
        ...remote,
        '--seed': args.seed,
        '--ngrams': args.ngrams,
        '--sublinear': args.sublinear,
        '--fit-on': args.fitOn,
        '--revision': args.revision,
      });
      const file = resolve(cwd, required(args.modelPath, '--model-path', 'word-vectors'));
      const { weighting, sifA, ...unknown } = args.params;
      refuse('word-vectors (known params: weighting, sifA)', { '--param': unknown });
      const space = wordVectorSpace(args.name, file, {
        ...geometry(args),
        ...(args.model ? { model: args.model } : {}),
        ...(weighting === 'sif' || weighting === 'mean' ? { weighting } : {}),
        ...(typeof sifA === 'number' ? { sifA } : {}),
      });
      assertDimension(space, args.dimension);
      return {
        space: withRuntime(withModelPath(space, recordedModelPath(dataDir, file)), runtime, args.options),
      };
    }
    case 'openai-compatible': {
      refuse('openai-compatible', {
        '--seed': args.seed,
        '--ngrams': args.ngrams,
        '--sublinear': args.sublinear,
        '--fit-on': args.fitOn,
        '--model-path': args.modelPath,
      });
      if (args.apiKeyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(args.apiKeyEnv)) {
        throw new ReembedError(
          'INVALID_INPUT',
          `--api-key-env takes the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key.`,
          {
            details: { option: '--api-key-env' },
          },
        );
      }
      const params = { ...args.params, ...(args.requestDimensions ? { requestDimensions: true } : {}) };
      return {
        space: defineSpace(
          args.name,
          {
            ...geometry(args),
            provider: 'openai-compatible',
            model: required(args.model, '--model', 'openai-compatible'),
            dimension: required(args.dimension, '--dimension', 'openai-compatible'),
            ...(args.revision ? { revision: args.revision } : {}),
            params: params as SpaceSpecInput['params'],
          },
          {
            ...runtime,
            options: {
              baseUrl: required(args.baseUrl, '--base-url', 'openai-compatible'),
              ...(args.apiKeyEnv ? { apiKey: `$env:${args.apiKeyEnv}` } : {}),
              ...(args.options as Record<string, never>),
            },
          },
        ),
      };
    }
  }
}

/** Records `vectorsSource` relative to the data directory when it lives inside it, like model files. */
function recordedSource(
  space: Space,
  dataDir: string,
  options: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const source = space.runtime.options.vectorsSource;
  return typeof source === 'string'
    ? { ...options, vectorsSource: recordedModelPath(dataDir, source) }
    : options;
}

function withRuntime(
  space: Space,
  runtime: { pricePerMillionTokens?: number },
  options: Readonly<Record<string, unknown>>,
): Space {
  if (runtime.pricePerMillionTokens === undefined && Object.keys(options).length === 0) return space;
  return defineSpace(space.name, space.spec, {
    ...space.runtime,
    ...runtime,
    options: { ...space.runtime.options, ...(options as Record<string, never>) },
  });
}

function assertDimension(space: Space, expected: number | undefined): void {
  if (expected !== undefined && expected !== space.spec.dimension) {
    throw new ReembedError(
      'DIMENSION_MISMATCH',
      `--dimension ${expected} does not match the model file, which has ${space.spec.dimension} dimensions; drop --dimension or pick the right file.`,
      { details: { expected, actual: space.spec.dimension } },
    );
  }
}
