import { ReembedError } from '../../core/errors.js';
import type { Namespace, NamespaceState } from '../../core/namespace.js';
import type { Alias, Routing } from '../../core/routing.js';
import { defineSpace, type Space, type SpaceRuntime, type SpaceSpec } from '../../core/space.js';
import type { AuditEntry, Collection } from '../../ports/catalog.js';
import { parseJsonObject } from '../shared/json.js';

/** Row shapes of the catalog tables and their mapping to frozen domain values. */
export interface SpaceRow {
  fingerprint: string;
  name: string;
  spec: string;
  runtime: string;
  created_at: string;
}

export interface CollectionRow {
  name: string;
  created_at: string;
}

export interface NamespaceRow {
  name: string;
  collection: string;
  fingerprint: string;
  state: string;
  created_at: string;
  created_from: string | null;
  retired_at: string | null;
  info: string;
}

export interface AliasRow {
  name: string;
  collection: string;
  routing: string;
  version: number;
  updated_at: string;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
}

/**
 * Rebuilds a space through `defineSpace`, so it is validated and frozen like any other; a stored
 * fingerprint that no longer matches its spec means the row was tampered with.
 */
export function spaceFromRow(row: SpaceRow): Space {
  const space = defineSpace(
    row.name,
    JSON.parse(row.spec) as SpaceSpec,
    JSON.parse(row.runtime) as Partial<SpaceRuntime>,
  );
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
  return Object.freeze({ kind: 'collection' as const, name: row.name, createdAt: row.created_at });
}

export function namespaceFromRow(row: NamespaceRow, space: Space): Namespace {
  return Object.freeze({
    kind: 'namespace' as const,
    name: row.name,
    collection: row.collection,
    space,
    state: row.state as NamespaceState,
    createdAt: row.created_at,
    createdFrom: row.created_from,
    retiredAt: row.retired_at,
    info: Object.freeze(parseJsonObject(row.info)),
  });
}

export function aliasFromRow(row: AliasRow): Alias {
  return Object.freeze({
    kind: 'alias' as const,
    name: row.name,
    collection: row.collection,
    routing: deepFreeze(JSON.parse(row.routing) as Routing),
    version: row.version,
    updatedAt: row.updated_at,
  });
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return Object.freeze({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    details: deepFreeze(parseJsonObject(row.details)),
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
