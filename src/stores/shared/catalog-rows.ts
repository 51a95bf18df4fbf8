import { ReembedError } from '../../core/errors.js';
import type { Namespace, NamespaceState } from '../../core/namespace.js';
import type { Alias, Routing } from '../../core/routing.js';
import { defineSpace, type Space, type SpaceRuntime, type SpaceSpec } from '../../core/space.js';
import type { AuditEntry, Collection } from '../../ports/catalog.js';
import { jsonValue, parseJsonObject } from './json.js';
import { iso, isoOrNull } from './timestamps.js';

/**
 * Row shapes of the catalog tables in both SQL stores and their mapping to frozen domain values. JSON
 * columns arrive as text from SQLite and parsed from PostgreSQL's jsonb; instants as ISO text from SQLite
 * and as Date (or ISO text) from PostgreSQL; bigint as a string from PostgreSQL.
 */
export interface SpaceRow {
  fingerprint: string;
  name: string;
  spec: unknown;
  runtime: unknown;
  created_at: unknown;
}

export interface CollectionRow {
  name: string;
  created_at: unknown;
}

export interface NamespaceRow {
  name: string;
  collection: string;
  fingerprint: string;
  state: string;
  created_at: unknown;
  created_from: string | null;
  retired_at: unknown;
  info: unknown;
}

export interface AliasRow {
  name: string;
  collection: string;
  routing: unknown;
  serving_namespace?: string;
  version: number | string;
  updated_at: unknown;
}

export interface AuditRow {
  id: number | string;
  at: unknown;
  actor: string;
  action: string;
  subject: string;
  details: unknown;
}

/** A JSON object column: text or parsed, anything that is not an object reads as `{}`. */
function jsonObject(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return parseJsonObject(value);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? { ...(value as Record<string, unknown>) }
    : {};
}

/**
 * Rebuilds a space through `defineSpace`, so it is validated and frozen like any other; a stored
 * fingerprint that no longer matches its spec means the row was modified outside reembed.
 */
export function spaceFromRow(row: SpaceRow): Space {
  const space = defineSpace(
    row.name,
    jsonValue<SpaceSpec>(row.spec),
    jsonValue<Partial<SpaceRuntime>>(row.runtime),
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
    info: deepFreeze(jsonObject(row.info)),
  });
}

export function aliasFromRow(row: AliasRow): Alias {
  return Object.freeze({
    kind: 'alias' as const,
    name: row.name,
    collection: row.collection,
    routing: deepFreeze(jsonValue<Routing>(row.routing)),
    version: Number(row.version),
    updatedAt: iso(row.updated_at),
  });
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return Object.freeze({
    id: Number(row.id),
    at: iso(row.at),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    details: deepFreeze(jsonObject(row.details)),
  });
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
