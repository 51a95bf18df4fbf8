import type { AuditFilter } from '../core/audit-filter.js';
import type { Namespace, NamespaceState } from '../core/namespace.js';
import type { Alias, Routing } from '../core/routing.js';
import type { Space } from '../core/space.js';

export interface Collection {
  readonly kind: 'collection';
  readonly name: string;
  readonly createdAt: string;
}

/** One line of the append-only audit log (invariant 8). */
export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  /** e.g. `space.add`, `namespace.create`, `alias.set`, `migration.step`, `migration.cutover`, `gate.forced`. */
  readonly action: string;
  readonly subject: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Which audit entries to read (see core/audit-filter.ts). */
export type { AuditFilter };

export interface NewNamespace {
  readonly collection: string;
  readonly space: Space;
  readonly state: NamespaceState;
  readonly createdFrom?: string | null;
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * The control plane: spaces, collections, namespaces, aliases and the audit log.
 * Every mutating method appends to the audit log in the same transaction, with the given actor.
 */
export interface Catalog {
  /** Registers a space. Idempotent for the same name and fingerprint; `ALREADY_EXISTS` if the name holds another. */
  addSpace(space: Space, actor: string): Promise<Space>;
  /** By name or fingerprint; `NOT_FOUND` naming the known spaces otherwise. */
  getSpace(nameOrFingerprint: string): Promise<Space>;
  listSpaces(): Promise<Space[]>;

  createCollection(name: string, actor: string): Promise<Collection>;
  getCollection(name: string): Promise<Collection>;
  listCollections(): Promise<Collection[]>;
  /**
   * Deletes a collection's aliases, namespaces (catalog rows) and the collection itself in one transaction,
   * audited as `collection.delete` with `details`. The caller drops vectors, sources, jobs and migrations
   * first (`Reembed.deleteCollection`); `NOT_FOUND` when the collection does not exist.
   */
  deleteCollection(name: string, actor: string, details?: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Deletes a space no namespace uses, audited as `space.remove`. `CONFLICT` naming the namespaces (retired
   * ones too: their manifests keep the space) while any does; `NOT_FOUND` when the space does not exist.
   */
  removeSpace(name: string, actor: string, details?: Readonly<Record<string, unknown>>): Promise<Space>;

  /** Name is `collection@space.name`. `ALREADY_EXISTS` if present. */
  createNamespace(input: NewNamespace, actor: string): Promise<Namespace>;
  getNamespace(name: string): Promise<Namespace>;
  listNamespaces(collection?: string): Promise<Namespace[]>;
  setNamespaceState(name: string, state: NamespaceState, actor: string): Promise<Namespace>;
  /** Shallow-merges `patch` into the namespace's info. */
  updateNamespaceInfo(name: string, patch: Readonly<Record<string, unknown>>): Promise<Namespace>;

  /**
   * Creates or replaces an alias's routing in one atomic write (invariant 7). With `expectedVersion`, fails
   * with `CONFLICT` when another writer changed the alias first.
   */
  setAlias(
    name: string,
    collection: string,
    routing: Routing,
    actor: string,
    options?: { expectedVersion?: number; reason?: string },
  ): Promise<Alias>;
  getAlias(name: string): Promise<Alias>;
  listAliases(collection?: string): Promise<Alias[]>;

  /** Appends one audit entry (for control-plane events that are not catalog writes, e.g. a forced gate). */
  audit(
    actor: string,
    action: string,
    subject: string,
    details?: Readonly<Record<string, unknown>>,
  ): Promise<AuditEntry>;
  /** Matching entries in commit order; with `limit`, the newest `limit` of them (still oldest first). */
  listAudit(options?: AuditFilter): Promise<AuditEntry[]>;
}
