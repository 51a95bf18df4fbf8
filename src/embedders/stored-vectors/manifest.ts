import { join } from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import { METRICS, parseSpaceSpec, type SpaceSpec } from '../../core/space.js';
import { readModelFile } from '../common.js';
import { LIVE_MODELS } from '../minilm/pinned.js';
import { liveModelOf, type ModelIdentity, specOfIdentity } from '../model-identity.js';

/**
 * The manifest of a stored-vectors folder (`MANIFEST.json`), as written beside
 * ../shared/datasets/<set>/embeddings/minilm-l6-v2 and documented in README "Adopting precomputed
 * embeddings". Unknown fields are kept for humans and ignored here.
 */
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in lowercase hex');

export const STORED_SETS = ['corpus', 'queries'] as const;
export type StoredSet = (typeof STORED_SETS)[number];

export const manifestSchema = z
  .object({
    model: z.string().min(1),
    dimension: z.number().int().positive().max(65_536),
    metric: z.enum(METRICS).default('cosine'),
    normalised: z.boolean(),
    dtype: z
      .string()
      .refine(
        (d) => /^float32 little-endian/.test(d),
        'only "float32 little-endian, row-major, no header" is read',
      )
      .optional(),
    max_tokens: z.number().int().positive().optional(),
    revision: z.string().min(1).optional(),
    model_files: z
      .object({ sha256: z.record(hex64) })
      .passthrough()
      .optional(),
    source_package: z
      .object({ integrity: z.string().min(1) })
      .passthrough()
      .optional(),
    text_rules: z.record(z.string()).optional(),
    /** A full reembed space spec: the vectors belong to exactly that space (e.g. an OpenAI model's). */
    space: z.record(z.unknown()).optional(),
    files: z.record(z.object({ bytes: z.number().int().nonnegative(), sha256: hex64 }).passthrough()),
    source_files_sha256: z.record(hex64).optional(),
  })
  .passthrough();
export type StoredManifest = z.infer<typeof manifestSchema>;

export interface ParsedManifest {
  readonly dir: string;
  readonly manifest: StoredManifest;
  /** The raw bytes' sha256: a changed manifest is a changed folder. */
  readonly sha256: string;
  /** Sets present (`corpus`, `queries`): both `<set>.f32` and `<set>.ids` listed in `files`. */
  readonly sets: readonly StoredSet[];
  /** The space these vectors belong to (its fingerprint is the folder's identity). */
  readonly spec: SpaceSpec;
  /** The live provider computing the same space, when reembed has one (`minilm`), else undefined. */
  readonly liveProvider: string | undefined;
}

export const MANIFEST_FILE = 'MANIFEST.json';

/** Reads and validates `<dir>/MANIFEST.json`; `NOT_FOUND` / `INVALID_INPUT` naming what to fix. */
export function readManifest(dir: string): ParsedManifest {
  const path = join(dir, MANIFEST_FILE);
  const bytes = readModelFile(
    path,
    (reason) =>
      `No stored vectors at ${dir}: cannot read ${MANIFEST_FILE} (${reason}). ` +
      'Give the folder that holds MANIFEST.json, corpus.f32 and corpus.ids (README "Adopting precomputed embeddings").',
    { dir, path },
  );
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw invalid(path, `is not valid JSON (${(cause as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw invalid(path, `is not a stored-vectors manifest: ${issues.join('; ')}`);
  }
  const manifest = parsed.data;
  const sets = STORED_SETS.filter((s) => `${s}.f32` in manifest.files || `${s}.ids` in manifest.files);
  for (const set of sets) {
    for (const file of [`${set}.f32`, `${set}.ids`]) {
      if (!(file in manifest.files)) throw invalid(path, `lists ${set} but not ${file} under "files"`);
    }
  }
  if (sets.length === 0)
    throw invalid(path, 'lists neither corpus.f32/corpus.ids nor queries.f32/queries.ids');
  const { spec, liveProvider } = spaceOfManifest(manifest, path);
  return { dir, manifest, sha256: sha256Hex(bytes), sets, spec, liveProvider };
}

/** The identity a manifest states (model, files, dimension, metric, normalisation, truncation, rules). */
export function identityOfManifest(m: StoredManifest): ModelIdentity {
  const vectorFiles = Object.fromEntries(Object.entries(m.files).map(([name, f]) => [name, f.sha256]));
  return {
    model: m.model,
    dimension: m.dimension,
    metric: m.metric,
    normalised: m.normalised,
    ...(m.model_files ? { modelFiles: m.model_files.sha256 } : {}),
    ...(m.source_package ? { integrity: m.source_package.integrity } : {}),
    ...(m.max_tokens !== undefined ? { maxTokens: m.max_tokens } : {}),
    ...(m.text_rules ? { textRules: m.text_rules } : {}),
    // Nothing names the model's files or package: then the vectors themselves are its only identity.
    ...(m.revision
      ? { revision: m.revision }
      : m.model_files || m.source_package
        ? {}
        : { revision: `vectors-${sha256Hex(canonicalJson(vectorFiles)).slice(0, 16)}` }),
  };
}

function spaceOfManifest(
  m: StoredManifest,
  path: string,
): { spec: SpaceSpec; liveProvider: string | undefined } {
  if (m.space) {
    let spec: SpaceSpec;
    try {
      spec = parseSpaceSpec(m.space);
    } catch (error) {
      throw invalid(path, `has a "space" that is not a valid space spec: ${(error as Error).message}`);
    }
    if (spec.dimension !== m.dimension) {
      throw invalid(path, `says dimension ${m.dimension} but its "space" has ${spec.dimension}`);
    }
    return { spec, liveProvider: spec.provider === 'stored-vectors' ? undefined : spec.provider };
  }
  const identity = identityOfManifest(m);
  const live = liveModelOf(identity, LIVE_MODELS);
  const provider = live?.provider ?? 'stored-vectors';
  return { spec: parseSpaceSpec(specOfIdentity(identity, provider)), liveProvider: live?.provider };
}

function invalid(path: string, why: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `${path} ${why}.`, { details: { path } });
}
