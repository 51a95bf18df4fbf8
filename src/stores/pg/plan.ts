import type { NamespaceDescriptor } from '../../ports/vector-store.js';
import { type PgBackendOptions, resolvePgConfig } from './config.js';
import { planDdl } from './sql.js';

/**
 * What creating `descriptor` would run on a Postgres backend configured by `options`, without
 * connecting: for `reembed plan --dry-run`. With `includeBase`, the idempotent base tables too.
 *
 * @example
 * process.stdout.write(planPgNamespace({ url, schema: 'reembed' }, descriptor));
 */
export function planPgNamespace(
  options: PgBackendOptions,
  descriptor: NamespaceDescriptor,
  planOptions: { includeBase?: boolean } = {},
): string {
  const config = resolvePgConfig(options);
  return planDdl(
    {
      schema: config.schema,
      namespace: descriptor.name,
      fingerprint: descriptor.fingerprint,
      dimension: descriptor.dimension,
      metric: descriptor.metric,
      hnsw: config.hnsw,
    },
    planOptions,
  );
}
