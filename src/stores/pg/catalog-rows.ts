import { ReembedError } from '../../core/errors.js';
import type { Namespace, NamespaceState } from '../../core/namespace.js';
import type { Alias, Routing } from '../../core/routing.js';
import { defineSpace, type Space, type SpaceRuntime, type SpaceSpec } from '../../core/space.js';
import type { AuditEntry, Collection } from '../../ports/catalog.js';
import { iso, isoOrNull, num } from './pool.js';

/** Row shapes as `pg` returns them (jsonb parsed, timestamptz as Date, bigint as string). */
export interface SpaceRow {
  fingerprint: string;
  name: string;
  spec: SpaceSpec;
  runtime: Partial<SpaceRuntime>;
  created_at: Date | string;
}

export interface CollectionRow {
  name: string;
  created_at: Date | string;
}

export interface NamespaceRow {
  name: string;
  collection: string;
  fingerprint: string;
  state: string;
  created_at: Date | string;
  created_from: string | null;
  retired_at: Date | string | null;
  info: Record<string, unknown> | null;
}

export interface AliasRow {
  name: string;
  collection: string;
  routing: Routing;
  serving_namespace: string;
  version: number;
  updated_at: Date | string;
}

export interface AuditRow {
  id: string | number;
  at: Date | string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown> | null;
}

/**
 * Rebuilds a space through `defineSpace`, so it is validated and frozen like any other; a stored
 * fingerprint that no longer matches its spec means the row was modified outside reembed.
 */
export function spaceFromRow(row: SpaceRow): Space {
  const space = defineSpace(row.name, row.spec, row.runtime);
  if (space.fingerprint !== row.fingerprint) {
    throw new ReembedError(
      'STORE_FAILED',
      `Space "${row.name}" is stored with fingerprint ${row.fingerprint} but its spec hashes to ${space.fingerprint}. The catalog row was modified outside reembed; restore it from a backup.`,
      { details: { name: row.name, stored: row.fingerprint, computed: space.fingerprint } },
    );
  }
  return space;
}

export function collectionFromRow(row: CollectionRow): Collection {
  return Object.freeze({ kind: 'collection' as const, name: row.name, createdAt: iso(row.created_at) });
}

export function namespaceFromRow(row: NamespaceRow, space: Space): Namespace {
  return Object.freeze({
    kind: 'namespace' as const,
    name: row.name,
    collection: row.collection,
    space,
    state: row.state as NamespaceState,
    createdAt: iso(row.created_at),
    createdFrom: row.created_from,
    retiredAt: isoOrNull(row.retired_at),
    info: deepFreeze({ ...(row.info ?? {}) }),
  });
}

export function aliasFromRow(row: AliasRow): Alias {
  return Object.freeze({
    kind: 'alias' as const,
    name: row.name,
    collection: row.collection,
    routing: deepFreeze(row.routing),
    version: num(row.version),
    updatedAt: iso(row.updated_at),
  });
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return Object.freeze({
    id: num(row.id),
    at: iso(row.at),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    details: deepFreeze({ ...(row.details ?? {}) }),
  });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
