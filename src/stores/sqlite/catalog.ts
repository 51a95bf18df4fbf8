import { checkAuditFilter } from '../../core/audit-filter.js';
import { canonicalJson } from '../../core/canonical.js';
import { type Namespace, type NamespaceState, namespaceName } from '../../core/namespace.js';
import { type Alias, namespacesOf, type Routing, servingNamespaceOf } from '../../core/routing.js';
import { assertName, defineSpace, isSpace, type Space } from '../../core/space.js';
import { spaceConflict, spaceDifferences } from '../../core/space-diff.js';
import type { AuditEntry, AuditFilter, Catalog, Collection, NewNamespace } from '../../ports/catalog.js';
import type { Clock } from '../../ports/clock.js';
import {
  aliasConflict,
  alreadyExists,
  checkActor,
  checkState,
  forgedSpace,
  invalid,
  notFound,
  spaceInUse,
  spaceRegisteredAs,
  unknownSpace,
} from '../shared/catalog-errors.js';
import {
  type AliasRow,
  type AuditRow,
  aliasFromRow,
  auditFromRow,
  type CollectionRow,
  collectionFromRow,
  type NamespaceRow,
  namespaceFromRow,
  type SpaceRow,
  spaceFromRow,
} from '../shared/catalog-rows.js';
import { parseJsonObject } from '../shared/json.js';
import { checkRouting } from '../shared/routing-check.js';
import { CATALOG_SQL as SQL } from './sql.js';
import type { StatementCache } from './statements.js';

type Details = Readonly<Record<string, unknown>>;

/**
 * The control plane in SQLite. Every mutation runs in one IMMEDIATE transaction together with its
 * audit entry (invariant 8), so an audited change and its audit line commit or fail together.
 * A no-op (re-adding the same space, setting the state a namespace already has) writes no entry.
 */
export class SqliteCatalog implements Catalog {
  readonly #sql: StatementCache;
  readonly #clock: Clock;
  /** Spaces are immutable once registered (fingerprint PK, unique name), so parsed ones are reused. */
  readonly #spaces = new Map<string, Space>();
  /**
   * Answers of `getAlias`, `getNamespace` and `getSpace` (the lookups every query makes), reused only
   * while nothing in the database changed since they were read: `stamp` pairs this connection's
   * `total_changes()` (any row it inserted, updated or deleted, committed or not, through any repository)
   * with `data_version` (a commit by any other connection or process). Either moving clears them, so a
   * cutover is seen by the very next query, as without the cache (invariant 7).
   */
  readonly #reads = new Map<string, unknown>();
  #stamp = '';

  constructor(sql: StatementCache, clock: Clock) {
    this.#sql = sql;
    this.#clock = clock;
  }

  async addSpace(space: Space, actor: string): Promise<Space> {
    checkActor(actor);
    if (!isSpace(space)) throw invalid('space', 'is not a space: build it with defineSpace()');
    const built = defineSpace(space.name, space.spec, space.runtime);
    if (built.fingerprint !== space.fingerprint)
      throw forgedSpace(space.name, space.fingerprint, built.fingerprint);
    return this.#sql.write('add a space', () => {
      const byName = this.#row<SpaceRow>(SQL.spaceByName, built.name);
      if (byName) {
        // Identical (geometry and runtime): idempotent. Anything else names the fields that differ.
        const held = this.#space(byName);
        if (spaceDifferences(held, built).length === 0) return held;
        throw spaceConflict(built.name, held, built);
      }
      const byPrint = this.#row<SpaceRow>(SQL.spaceByFingerprint, built.fingerprint);
      if (byPrint) throw spaceRegisteredAs(byPrint.name, built.fingerprint);
      const { fingerprint, name, spec, runtime } = built;
      this.#sql
        .get(SQL.insertSpace)
        .run(fingerprint, name, canonicalJson(spec), canonicalJson(runtime), this.#now());
      this.#audit(actor, 'space.add', name, { fingerprint, spec });
      this.#spaces.set(fingerprint, built);
      return built;
    });
  }

  async getSpace(nameOrFingerprint: string): Promise<Space> {
    return this.#cached(`s:${nameOrFingerprint}`, () => {
      const row = this.#sql.get(SQL.spaceByKey).get({ key: nameOrFingerprint }) as SpaceRow | undefined;
      if (row) return this.#space(row);
      const known = (this.#sql.get(SQL.spaces).all() as SpaceRow[]).map((s) => s.name);
      throw unknownSpace(nameOrFingerprint, known);
    });
  }

  async listSpaces(): Promise<Space[]> {
    return (this.#sql.get(SQL.spaces).all() as SpaceRow[]).map((row) => this.#space(row));
  }

  async createCollection(name: string, actor: string): Promise<Collection> {
    checkActor(actor);
    assertName('collection', name);
    return this.#sql.write('create a collection', () => {
      if (this.#row(SQL.collection, name)) throw alreadyExists('Collection', name);
      const now = this.#now();
      this.#sql.get(SQL.insertCollection).run(name, now);
      this.#audit(actor, 'collection.create', name, {});
      return collectionFromRow({ name, created_at: now });
    });
  }

  async getCollection(name: string): Promise<Collection> {
    const row = this.#row<CollectionRow>(SQL.collection, name);
    if (!row) throw notFound('collection', name, 'create it first (reembed collection create)');
    return collectionFromRow(row);
  }

  async listCollections(): Promise<Collection[]> {
    return (this.#sql.get(SQL.collections).all() as CollectionRow[]).map(collectionFromRow);
  }

  async deleteCollection(name: string, actor: string, details: Details = {}): Promise<void> {
    checkActor(actor);
    this.#sql.write('delete a collection', () => {
      if (!this.#row(SQL.collection, name))
        throw notFound('collection', name, 'list collections with reembed collection list');
      for (const sql of [SQL.deleteAliases, SQL.deleteNamespaces, SQL.deleteCollection])
        this.#sql.get(sql).run(name);
      this.#audit(actor, 'collection.delete', name, details);
    });
  }

  async removeSpace(name: string, actor: string, details: Details = {}): Promise<Space> {
    checkActor(actor);
    return this.#sql.write('remove a space', () => {
      const row = this.#row<SpaceRow>(SQL.spaceByName, name);
      if (!row)
        throw unknownSpace(
          name,
          (this.#sql.get(SQL.spaces).all() as SpaceRow[]).map((s) => s.name),
        );
      const users = this.#sql.get(SQL.namespacesOfSpace).all(row.fingerprint) as NamespaceRow[];
      if (users.length > 0) throw spaceInUse(name, users);
      this.#sql.get(SQL.deleteSpace).run(row.fingerprint);
      const space = this.#space(row);
      this.#spaces.delete(row.fingerprint);
      this.#audit(actor, 'space.remove', name, {
        fingerprint: row.fingerprint,
        spec: space.spec,
        ...details,
      });
      return space;
    });
  }

  /** The space must be registered (`addSpace`) and the collection created first. */
  async createNamespace(input: NewNamespace, actor: string): Promise<Namespace> {
    checkActor(actor);
    checkState(input.state);
    const name = namespaceName(input.collection, input.space);
    const { fingerprint, name: spaceName } = input.space;
    return this.#sql.write('create a namespace', () => {
      if (!this.#row(SQL.collection, input.collection)) {
        throw notFound('collection', input.collection, 'create it before its namespaces');
      }
      if (this.#row<SpaceRow>(SQL.spaceByFingerprint, fingerprint)?.name !== spaceName) {
        throw notFound('space', `${spaceName} (${fingerprint})`, 'register it with addSpace first');
      }
      if (this.#row(SQL.namespace, name)) throw alreadyExists('Namespace', name);
      const now = this.#now();
      const createdFrom = input.createdFrom ?? null;
      const row: NamespaceRow = {
        name,
        collection: input.collection,
        fingerprint,
        state: input.state,
        created_at: now,
        created_from: createdFrom,
        retired_at: input.state === 'retired' ? now : null,
        info: JSON.stringify(input.info ?? {}),
      };
      this.#sql.get(SQL.insertNamespace).run(row);
      const details = {
        collection: input.collection,
        space: spaceName,
        fingerprint,
        state: input.state,
        createdFrom,
      };
      this.#audit(actor, 'namespace.create', name, details);
      return this.#namespace(row);
    });
  }

  async getNamespace(name: string): Promise<Namespace> {
    return this.#cached(`n:${name}`, () => this.#namespace(this.#namespaceRow(name)));
  }

  async listNamespaces(collection?: string): Promise<Namespace[]> {
    const rows = this.#sql.get(SQL.namespaces).all({ collection: collection ?? null }) as NamespaceRow[];
    return rows.map((row) => this.#namespace(row));
  }

  async setNamespaceState(name: string, state: NamespaceState, actor: string): Promise<Namespace> {
    checkActor(actor);
    checkState(state);
    return this.#sql.write('change a namespace state', () => {
      const row = this.#namespaceRow(name);
      if (row.state === state) return this.#namespace(row);
      const retiredAt = state === 'retired' ? this.#now() : null;
      this.#sql.get(SQL.setNamespaceState).run(state, retiredAt, name);
      this.#audit(actor, 'namespace.state', name, { from: row.state, to: state });
      return this.#namespace({ ...row, state, retired_at: retiredAt });
    });
  }

  /** Audited as actor `system`: info holds bookkeeping (checkpoint summaries, last eval), not decisions. */
  async updateNamespaceInfo(name: string, patch: Readonly<Record<string, unknown>>): Promise<Namespace> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw invalid('patch', 'must be an object');
    }
    return this.#sql.write('update namespace info', () => {
      const row = this.#namespaceRow(name);
      const info = JSON.stringify({ ...parseJsonObject(row.info as string), ...patch });
      this.#sql.get(SQL.setNamespaceInfo).run(info, name);
      this.#audit('system', 'namespace.info', name, { patch });
      return this.#namespace({ ...row, info });
    });
  }

  async setAlias(
    name: string,
    collection: string,
    routing: Routing,
    actor: string,
    options: { expectedVersion?: number; reason?: string } = {},
  ): Promise<Alias> {
    checkActor(actor);
    assertName('alias', name);
    checkRouting(name, routing);
    return this.#sql.write('set an alias', () => {
      if (!this.#row(SQL.collection, collection)) throw notFound('collection', collection, 'create it first');
      for (const ns of namespacesOf(routing)) {
        const owner = this.#row<NamespaceRow>(SQL.namespace, ns)?.collection;
        if (owner === undefined) throw notFound('namespace', ns, 'create it before routing an alias to it');
        if (owner !== collection)
          throw invalid('routing', `names "${ns}" of collection "${owner}", not "${collection}"`);
      }
      const current = this.#row<AliasRow>(SQL.alias, name);
      if (current && current.collection !== collection) {
        throw invalid(
          'collection',
          `"${collection}" differs: alias "${name}" belongs to "${current.collection}"`,
        );
      }
      const held = Number(current?.version ?? 0);
      if (options.expectedVersion !== undefined && options.expectedVersion !== held) {
        throw aliasConflict(name, options.expectedVersion, held);
      }
      const version = held + 1;
      const row: AliasRow = {
        name,
        collection,
        routing: JSON.stringify(routing),
        version,
        updated_at: this.#now(),
      };
      this.#sql.get(SQL.upsertAlias).run({ ...row, serving: servingNamespaceOf(routing) });
      const previous = current ? (JSON.parse(current.routing as string) as unknown) : null;
      this.#audit(actor, 'alias.set', name, {
        collection,
        routing,
        previous,
        version,
        reason: options.reason ?? null,
      });
      return aliasFromRow(row);
    });
  }

  async getAlias(name: string): Promise<Alias> {
    return this.#cached(`a:${name}`, () => {
      const row = this.#row<AliasRow>(SQL.alias, name);
      if (!row)
        throw notFound(
          'alias',
          name,
          'list aliases with reembed alias list, or create it with reembed alias set <alias> <namespace>',
        );
      return aliasFromRow(row);
    });
  }

  async listAliases(collection?: string): Promise<Alias[]> {
    return (this.#sql.get(SQL.aliases).all({ collection: collection ?? null }) as AliasRow[]).map(
      aliasFromRow,
    );
  }

  async audit(actor: string, action: string, subject: string, details: Details = {}): Promise<AuditEntry> {
    checkActor(actor);
    if (typeof action !== 'string' || action.length === 0)
      throw invalid('action', 'must be a non-empty string');
    return this.#sql.write('append to the audit log', () => this.#audit(actor, action, subject, details));
  }

  /** Entries in commit order; with `limit`, the newest `limit` matching entries (still oldest first). */
  async listAudit(options: AuditFilter = {}): Promise<AuditEntry[]> {
    const f = checkAuditFilter(options);
    const params = {
      subject: globPattern(f.subject),
      action: globPattern(f.action),
      actor: globPattern(f.actor),
      since: f.since ?? null,
      until: f.until ?? null,
      limit: f.limit ?? -1,
    };
    return (this.#sql.get(SQL.audit).all(params) as AuditRow[]).map(auditFromRow);
  }

  #audit(actor: string, action: string, subject: string, details: Details): AuditEntry {
    const at = this.#now();
    const json = JSON.stringify(details ?? {});
    const id = Number(this.#sql.get(SQL.insertAudit).run(at, actor, action, subject, json).lastInsertRowid);
    return auditFromRow({ id, at, actor, action, subject, details: json });
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  /** A frozen catalog value read since the database last changed, or `load()` (failures are not kept). */
  #cached<T>(key: string, load: () => T): T {
    const [changes, version] = this.#sql.get(SQL.changeStamp).raw().get() as [number, number];
    const stamp = `${changes}:${version}`;
    if (stamp !== this.#stamp) {
      this.#reads.clear();
      this.#stamp = stamp;
    }
    if (this.#reads.has(key)) return this.#reads.get(key) as T;
    const value = load();
    this.#reads.set(key, value);
    return value;
  }

  #row<T>(sql: string, key: string): T | undefined {
    return this.#sql.get(sql).get(key) as T | undefined;
  }

  #namespaceRow(name: string): NamespaceRow {
    const row = this.#row<NamespaceRow>(SQL.namespace, name);
    if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
    return row;
  }

  #space(row: SpaceRow): Space {
    let space = this.#spaces.get(row.fingerprint);
    if (!space) {
      space = spaceFromRow(row);
      this.#spaces.set(row.fingerprint, space);
    }
    return space;
  }

  #namespace(row: NamespaceRow): Namespace {
    const space =
      this.#spaces.get(row.fingerprint) ??
      this.#space(this.#row<SpaceRow>(SQL.spaceByFingerprint, row.fingerprint) as SpaceRow);
    return namespaceFromRow(row, space);
  }
}

/** An audit filter value as a SQLite GLOB: `*` stays a wildcard, every other GLOB character is literal. */
function globPattern(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.replace(/[[?]/g, (c) => `[${c}]`);
}
