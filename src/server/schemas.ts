import { z } from '@hono/zod-openapi';
import { migrationOptionsSchema } from '../app/migrate-options.js';
import { MIGRATION_STRATEGIES } from '../core/migration.js';
import { API_KEY_SCOPES } from '../ports/api-keys.js';

/**
 * Request and response schemas of the HTTP API. The same zod schemas validate requests and generate
 * `/openapi.json`, so the document cannot drift from what the server accepts. Requests are strict
 * (unknown fields are refused, so a typo is an error instead of a silently ignored option).
 */
export const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const Name = (example: string) =>
  z.string().regex(NAME, 'use 1-63 characters from a-z, 0-9, ".", "_" and "-"').openapi({ example });

export const NamespaceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}@[a-z0-9][a-z0-9._-]{0,62}$/, 'a namespace is collection@space')
  .openapi({ example: 'docs@hashing-v1' });

/** An alias name or a migration id (`mig_...`): a migration is addressed by either. */
export const MigrationRef = z
  .string()
  .regex(
    /^(?:mig_[A-Za-z0-9@._-]{1,160}|[a-z0-9][a-z0-9._-]{0,62})$/,
    'an alias name or a migration id (mig_...)',
  )
  .openapi({ example: 'docs' });

const Tenant = z.string().min(1).max(256);
const Scalar = z.union([z.string().max(4096), z.number().finite(), z.boolean()]);

export const Filter = z
  .object({
    tenant: Tenant.optional(),
    metadata: z
      .record(
        z.string().min(1).max(256),
        z.union([Scalar, z.object({ $in: z.array(Scalar).max(1000) }).strict()]),
      )
      .optional(),
  })
  .strict()
  .openapi('Filter');

export const SearchRequest = z
  .object({
    text: z.string().min(1).max(32_768).optional().openapi({ example: 'how do embedding spaces differ' }),
    vector: z.array(z.number().finite()).min(1).max(16_000).optional(),
    space: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: 'Space of `vector` (name or fingerprint).' }),
    k: z.number().int().min(1).max(1000).optional().openapi({ example: 10 }),
    filter: Filter.optional(),
    routingKey: z.string().min(1).max(512).optional(),
    exact: z.boolean().optional(),
  })
  .strict()
  .refine((r) => (r.text === undefined) !== (r.vector === undefined), {
    message: 'give exactly one of text or vector',
  })
  .refine((r) => r.vector === undefined || r.space !== undefined, {
    message: 'a vector needs its space: give space (name or fingerprint)',
    path: ['space'],
  })
  .openapi('SearchRequest');

const Provenance = z
  .object({
    fingerprint: z.string(),
    sourceId: z.string(),
    chunkId: z.string(),
    contentHash: z.string(),
    sourceVersion: z.number(),
    embeddedAt: z.string(),
  })
  .openapi('Provenance');

export const SearchResponse = z
  .object({
    hits: z.array(
      z.object({
        sourceId: z.string(),
        chunkId: z.string(),
        score: z.number(),
        text: z.string(),
        metadata: z.record(z.unknown()),
        tenant: z.string().nullable(),
        namespace: z.string(),
        provenance: Provenance,
        ranks: z.record(z.number()).optional(),
      }),
    ),
    trace: z
      .object({
        alias: z.string(),
        collection: z.string(),
        routing: z.string(),
        aliasVersion: z.number(),
        reads: z.array(
          z.object({
            namespace: z.string(),
            space: z.string(),
            fingerprint: z.string(),
            role: z.enum(['served', 'shadow', 'fused']),
            latencyMs: z.number(),
            hits: z.number(),
            skipped: z.string().optional(),
          }),
        ),
        k: z.number(),
        filter: z.unknown(),
        fusion: z.string().nullable(),
        fingerprints: z.array(z.string()),
        mixedVersion: z.boolean(),
        tookMs: z.number(),
      })
      .openapi('QueryTrace'),
  })
  .openapi('SearchResponse');

export const SourceDocument = z
  .object({
    id: z.union([z.string().min(1).max(512), z.number().int()]),
    text: z.string().min(1).max(1_000_000),
    metadata: z.record(z.unknown()).optional(),
    tenant: Tenant.nullable().optional(),
  })
  .strict()
  .openapi('SourceDocument');

export const UpsertRequest = z
  .object({
    documents: z.array(SourceDocument).min(1).max(10_000),
    onDeleted: z.enum(['restore', 'skip', 'refuse']).optional(),
  })
  .strict()
  .openapi('UpsertRequest');

export const DeleteRequest = z
  .object({ ids: z.array(z.string().min(1).max(512)).min(1).max(10_000) })
  .strict()
  .openapi('DeleteRequest');

export const CollectionQuery = z.object({ collection: Name('docs').optional() }).strict();

export const MonitorQuery = z
  .object({
    collection: Name('docs').optional(),
    since: z
      .string()
      .regex(/^\d{1,6}(ms|s|m|h|d|w)$/, 'a duration such as 30m, 24h or 7d')
      .optional()
      .openapi({ example: '24h' }),
  })
  .strict();

export const AuditQuery = z
  .object({
    subject: z.string().min(1).max(256).optional(),
    action: z.string().min(1).max(128).optional(),
    actor: z.string().min(1).max(256).optional(),
    since: z.string().min(1).max(64).optional(),
    until: z.string().min(1).max(64).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).optional(),
  })
  .strict();

export const MigrationInputBody = z
  .object({
    alias: Name('docs'),
    to: Name('hashing-v2').openapi({ description: 'Target space name.' }),
    strategy: z.enum(MIGRATION_STRATEGIES),
    options: migrationOptionsSchema.optional(),
  })
  .strict();

export const PlanRequest = MigrationInputBody.extend({
  latencyMs: z.number().min(0).max(600_000).optional(),
  sampleSize: z.number().int().min(0).max(1000).optional(),
})
  .strict()
  .openapi('PlanRequest');

export const StartRequest = MigrationInputBody.openapi('StartRequest');

export const StepRequest = z
  .object({
    maxBatches: z.number().int().min(1).max(1_000_000).optional(),
    maxSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict()
  .openapi('StepRequest');

export const CutoverRequest = z
  .object({
    force: z.boolean().optional(),
    reason: z.string().min(1).max(2000).optional(),
    golden: Name('scifact').optional().openapi({ description: 'A stored golden set (by name).' }),
  })
  .strict()
  .openapi('CutoverRequest');

export const RollbackRequest = z
  .object({ reason: z.string().min(1).max(2000).optional() })
  .strict()
  .openapi('RollbackRequest');

export const FinishRequest = z
  .object({ reason: z.string().min(1).max(2000), retireNow: z.boolean().optional() })
  .strict()
  .openapi('FinishRequest');

export const MigrationListQuery = z
  .object({
    alias: Name('docs').optional(),
    collection: Name('docs').optional(),
    active: z.enum(['true', 'false']).optional(),
  })
  .strict();

export const EvalRequest = z
  .object({
    alias: Name('docs').optional(),
    namespace: NamespaceName.optional(),
    golden: Name('scifact').openapi({ description: 'A stored golden set (by name).' }),
    ks: z.array(z.number().int().min(1).max(1000)).min(1).max(10).optional(),
    exact: z.boolean().optional(),
    allowUnknownDocs: z.boolean().optional(),
  })
  .strict()
  .refine((r) => (r.alias === undefined) !== (r.namespace === undefined), {
    message: 'give exactly one of alias or namespace',
  })
  .openapi('EvalRequest');

export const GoldenSetBody = z
  .object({
    queries: z
      .array(z.object({ id: z.string().min(1).max(512), text: z.string().min(1).max(32_768) }).strict())
      .min(1)
      .max(100_000),
    judgments: z
      .array(
        z
          .object({
            queryId: z.string().min(1).max(512),
            docId: z.string().min(1).max(512),
            grade: z.number().finite().min(0).max(100),
          })
          .strict(),
      )
      .min(1)
      .max(1_000_000),
    replace: z.boolean().optional(),
  })
  .strict()
  .openapi('GoldenSet');

export const KeyCreateRequest = z
  .object({
    name: Name('search-service'),
    scope: z.enum(API_KEY_SCOPES),
    tenant: Tenant.optional(),
  })
  .strict()
  .openapi('KeyCreateRequest');

export const KeyRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a key id or name')
  .openapi({ example: 'search-service' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.unknown()).optional(),
    }),
  })
  .openapi('Error');

/** Responses documented loosely (their shapes are the library's types, listed in the README). */
export const Json = z.record(z.any()).openapi('Object');
export const JsonList = z.array(z.record(z.any())).openapi('ObjectList');

export const GatesRequest = z
  .object({
    golden: Name('review-docs').optional().openapi({
      description: 'Also evaluate on this stored golden set (e.g. the review set), as cutover --golden.',
    }),
  })
  .strict()
  .openapi('GatesRequest');

export const ReplayRequest = z
  .object({
    source: z.enum(['probe', 'recent']).optional().openapi({
      description: "The migration's probe queries (default), or served queries kept with keepQueries.",
    }),
    probe: Name('docs').optional().openapi({ description: 'Another stored probe set (source "probe").' }),
    limit: z.number().int().min(1).max(100_000).optional(),
    k: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .openapi('ReplayRequest');

export const CoverageQuery = z
  .object({
    collection: Name('docs').optional(),
    namespace: NamespaceName.optional(),
    since: z
      .string()
      .datetime()
      .optional()
      .openapi({ description: 'ISO-8601 time; samples at or after it.' }),
  })
  .strict();

export const ProbeCreateRequest = z
  .object({
    collection: Name('docs'),
    name: Name('docs')
      .optional()
      .openapi({ description: 'Stored as probe:<name> (default: the collection).' }),
    params: z
      .record(z.any())
      .optional()
      .openapi({ description: 'Probe parameters (seed, size, kinds ...).' }),
    replace: z.boolean().optional(),
  })
  .strict()
  .openapi('ProbeCreateRequest');

export const ProbeShowQuery = z
  .object({
    queries: z
      .string()
      .regex(/^\d{1,4}$/)
      .optional()
      .openapi({ description: 'Sample size (default 5).' }),
  })
  .strict();

export const ProbeEvalRequest = z
  .object({
    namespace: NamespaceName.optional(),
    alias: Name('docs').optional(),
    old: NamespaceName.optional(),
    new: NamespaceName.optional(),
    ks: z.array(z.number().int().min(1).max(1000)).min(1).max(10).optional(),
  })
  .strict()
  .refine(
    (r) =>
      [r.namespace !== undefined, r.alias !== undefined, r.old !== undefined || r.new !== undefined].filter(
        Boolean,
      ).length === 1 && (r.old === undefined) === (r.new === undefined),
    { message: 'give exactly one of namespace, alias, or old and new together' },
  )
  .openapi('ProbeEvalRequest');

export const ReviewQuery = z
  .object({
    source: z.enum(['auto', 'recent', 'probe']).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .optional(),
    k: z
      .string()
      .regex(/^\d{1,3}$/)
      .optional(),
    golden: Name('review-docs').optional(),
    reviewed: z
      .enum(['true', 'false'])
      .optional()
      .openapi({ description: 'Include queries already judged.' }),
  })
  .strict();

export const ReviewRequest = z
  .object({
    golden: Name('review-docs')
      .optional()
      .openapi({ description: 'Golden set to store into (default review-<alias>).' }),
    judgments: z
      .array(
        z
          .object({
            query: z
              .object({
                id: z.string().min(1).max(64).optional(),
                text: z.string().min(1).max(32_768),
                tenant: z.string().min(1).max(256).nullable().optional(),
              })
              .strict(),
            docId: z.string().min(1).max(512),
            relevant: z.boolean(),
          })
          .strict(),
      )
      .min(1)
      .max(10_000),
  })
  .strict()
  .openapi('ReviewRequest');
