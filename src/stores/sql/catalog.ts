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
import { jsonValue, parseJsonObject } from '../shared/json.js';
import { checkRouting } from '../shared/routing-check.js';
import { type CatalogSql, catalogSql } from './catalog-sql.js';
import type { SqlDialect } from './dialect.js';
import { exec, rows, type SqlExecutor, type SqlWork } from './executor.js';

type Details = Readonly<Record<string, unknown>>;

export interface SqlCatalogOptions {
  /**
   * A value that changes whenever the database may have changed (on SQLite: this connection's
   * `total_changes()` with `data_version`, read synchronously). With it, `getAlias`, `getNamespace` and
   * `getSpace` — the lookups every query makes — reuse their answers while it stays the same; either
   * moving clears them, so a cutover is seen by the very next query (invariant 7). Without it every
   * lookup reads the database.
   */
  readonly changeStamp?: () => string;
}

/**
 * The control plane over a SQL executor, one implementation for SQLite and PostgreSQL. Every mutation runs
 * in one write transaction together with its audit entry (invariant 8), so an audited change and its
 * audit line commit or fail together; a no-op (re-adding the same space, setting the state a namespace
 * already has) writes no entry. A cutover (`setAlias`) is one UPDATE of the alias row under its row lock
 * and a version check, so readers see the old routing or the new.
 */
export class SqlCatalog implements Catalog {
  readonly #db: SqlExecutor;
  readonly #d: SqlDialect;
  readonly #sql: CatalogSql;
  readonly #clock: Clock;
  readonly #changeStamp: (() => string) | undefined;
  /** Spaces are immutable once registered (fingerprint PK, unique name), so parsed ones are reused. */
  readonly #spaces = new Map<string, Space>();
  /** Frozen lookups read while the change stamp was `#stamp` (see `SqlCatalogOptions.changeStamp`). */
  readonly #reads = new Map<string, unknown>();
  #stamp = '';

  constructor(db: SqlExecutor, clock: Clock, options: SqlCatalogOptions = {}) {
    this.#db = db;
    this.#d = db.dialect;
    this.#sql = catalogSql(db.dialect);
    this.#clock = clock;
    this.#changeStamp = options.changeStamp;
  }

  async addSpace(space: Space, actor: string): Promise<Space> {
    checkActor(actor);
    if (!isSpace(space)) throw invalid('space', 'is not a space: build it with defineSpace()');
    const built = defineSpace(space.name, space.spec, space.runtime);
    if (built.fingerprint !== space.fingerprint)
      throw forgedSpace(space.name, space.fingerprint, built.fingerprint);
    const { fingerprint, name, spec, runtime } = built;
    const add = () =>
      this.#write('add a space', function* (this: SqlCatalog): SqlWork<Space> {
        const byName = yield* this.#one<SpaceRow>(this.#sql.spaceByName, name);
        if (byName) {
          // Identical (geometry and runtime): idempotent. Anything else names the fields that differ.
          const held = this.#space(byName);
          if (spaceDifferences(held, built).length === 0) return held;
          throw spaceConflict(name, held, built);
        }
        const byPrint = yield* this.#one<SpaceRow>(this.#sql.spaceByFingerprint, fingerprint);
        if (byPrint) throw spaceRegisteredAs(byPrint.name, fingerprint);
        yield* exec(this.#sql.insertSpace, [
          fingerprint,
          name,
          canonicalJson(spec),
          canonicalJson(runtime),
          this.#now(),
        ]);
        yield* this.#audit(actor, 'space.add', name, { fingerprint, spec });
        this.#spaces.set(fingerprint, built);
        return built;
      });
    // A concurrent registration of the same space (PostgreSQL) makes our INSERT fail on a unique key; the
    // retry then finds the committed row and returns it (idempotent), or reports the conflict.
    try {
      return await add();
    } catch (error) {
      if (this.#d.uniqueViolation(error)) return add();
      throw error;
    }
  }

  async getSpace(nameOrFingerprint: string): Promise<Space> {
    return this.#cached(`s:${nameOrFingerprint}`, async () => {
      const [row] = await this.#all<SpaceRow>(this.#sql.spaceByKey, [nameOrFingerprint, nameOrFingerprint]);
      if (row) return this.#space(row);
      throw unknownSpace(nameOrFingerprint, await this.#spaceNames());
    });
  }

  async listSpaces(): Promise<Space[]> {
    return (await this.#all<SpaceRow>(this.#sql.spaces)).map((row) => this.#space(row));
  }

  async createCollection(name: string, actor: string): Promise<Collection> {
    checkActor(actor);
    assertName('collection', name);
    return this.#write('create a collection', function* (this: SqlCatalog): SqlWork<Collection> {
      if (yield* this.#one(this.#sql.collection, name)) throw alreadyExists('Collection', name);
      const now = this.#now();
      yield* this.#insertUnique(alreadyExists('Collection', name), this.#sql.insertCollection, [name, now]);
      yield* this.#audit(actor, 'collection.create', name, {});
      return collectionFromRow({ name, created_at: now });
    });
  }

  async getCollection(name: string): Promise<Collection> {
    const [row] = await this.#all<CollectionRow>(this.#sql.collection, [name]);
    if (!row) throw notFound('collection', name, 'create it first (reembed collection create)');
    return collectionFromRow(row);
  }

  async listCollections(): Promise<Collection[]> {
    return (await this.#all<CollectionRow>(this.#sql.collections)).map(collectionFromRow);
  }

  async deleteCollection(name: string, actor: string, details: Details = {}): Promise<void> {
    checkActor(actor);
    await this.#write('delete a collection', function* (this: SqlCatalog): SqlWork<void> {
      if (!(yield* this.#one(this.#sql.collectionForUpdate, name)))
        throw notFound('collection', name, 'list collections with reembed collection list');
      for (const sql of [this.#sql.deleteAliases, this.#sql.deleteNamespaces, this.#sql.deleteCollection])
        yield* exec(sql, [name]);
      yield* this.#audit(actor, 'collection.delete', name, details);
    });
  }

  async removeSpace(name: string, actor: string, details: Details = {}): Promise<Space> {
    checkActor(actor);
    return this.#write('remove a space', function* (this: SqlCatalog): SqlWork<Space> {
      const row = yield* this.#one<SpaceRow>(this.#sql.spaceByNameForUpdate, name);
      if (!row) {
        const known = yield* rows<{ name: string }>(this.#sql.spaceNames);
        throw unknownSpace(
          name,
          known.map((r) => r.name),
        );
      }
      const users = yield* rows<NamespaceRow>(this.#sql.namespacesOfSpace, [row.fingerprint]);
      if (users.length > 0) throw spaceInUse(name, users);
      yield* exec(this.#sql.deleteSpace, [row.fingerprint]);
      const space = this.#space(row);
      this.#spaces.delete(row.fingerprint);
      yield* this.#audit(actor, 'space.remove', name, {
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
    return this.#write('create a namespace', function* (this: SqlCatalog): SqlWork<Namespace> {
      if (!(yield* this.#one(this.#sql.collection, input.collection))) {
        throw notFound('collection', input.collection, 'create it before its namespaces');
      }
      const space = yield* this.#one<SpaceRow>(this.#sql.spaceByFingerprint, fingerprint);
      if (space?.name !== spaceName) {
        throw notFound('space', `${spaceName} (${fingerprint})`, 'register it with addSpace first');
      }
      if (yield* this.#one(this.#sql.namespace, name)) throw alreadyExists('Namespace', name);
      const now = this.#now();
      const row: NamespaceRow = {
        name,
        collection: input.collection,
        fingerprint,
        state: input.state,
        created_at: now,
        created_from: input.createdFrom ?? null,
        retired_at: input.state === 'retired' ? now : null,
        info: JSON.stringify(input.info ?? {}),
      };
      yield* this.#insertUnique(
        alreadyExists('Namespace', name),
        this.#sql.insertNamespace,
        Object.values(row),
      );
      const details = { collection: input.collection, space: spaceName, fingerprint, state: input.state };
      yield* this.#audit(actor, 'namespace.create', name, { ...details, createdFrom: row.created_from });
      return namespaceFromRow(row, this.#space(space));
    });
  }

  async getNamespace(name: string): Promise<Namespace> {
    return this.#cached(`n:${name}`, async () => {
      const [row] = await this.#all<NamespaceRow>(this.#sql.namespace, [name]);
      if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
      return this.#namespace(row);
    });
  }

  async listNamespaces(collection?: string): Promise<Namespace[]> {
    const key = collection ?? null;
    const found = await this.#all<NamespaceRow>(this.#sql.namespaces, [key, key]);
    const out: Namespace[] = [];
    for (const row of found) out.push(await this.#namespace(row));
    return out;
  }

  async setNamespaceState(name: string, state: NamespaceState, actor: string): Promise<Namespace> {
    checkActor(actor);
    checkState(state);
    return this.#write('change a namespace state', function* (this: SqlCatalog): SqlWork<NamespaceRow> {
      const row = yield* this.#namespaceForUpdate(name);
      if (row.state === state) return row;
      const retiredAt = state === 'retired' ? this.#now() : null;
      const [updated] = yield* rows<NamespaceRow>(this.#sql.setNamespaceState, [state, retiredAt, name]);
      yield* this.#audit(actor, 'namespace.state', name, { from: row.state, to: state });
      return updated as NamespaceRow;
    }).then((row) => this.#namespace(row));
  }

  /** Audited as actor `system`: info holds bookkeeping (checkpoint summaries, last eval), not decisions. */
  async updateNamespaceInfo(name: string, patch: Readonly<Record<string, unknown>>): Promise<Namespace> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw invalid('patch', 'must be an object');
    }
    return this.#write('update namespace info', function* (this: SqlCatalog): SqlWork<NamespaceRow> {
      const row = yield* this.#namespaceForUpdate(name);
      // A shallow merge, under the row lock (PostgreSQL) or the database's write lock (SQLite).
      const info = JSON.stringify({ ...jsonObjectOf(row.info), ...patch });
      const [updated] = yield* rows<NamespaceRow>(this.#sql.setNamespaceInfo, [info, name]);
      yield* this.#audit('system', 'namespace.info', name, { patch });
      return updated as NamespaceRow;
    }).then((row) => this.#namespace(row));
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
    return this.#write('set an alias', function* (this: SqlCatalog): SqlWork<Alias> {
      if (!(yield* this.#one(this.#sql.collection, collection)))
        throw notFound('collection', collection, 'create it first');
      const wanted = namespacesOf(routing);
      const owners = yield* rows<{ name: string; collection: string }>(this.#sql.namespaceOwners, [
        this.#d.list(wanted),
      ]);
      const ownerOf = new Map(owners.map((r) => [r.name, r.collection]));
      for (const ns of wanted) {
        const owner = ownerOf.get(ns);
        if (owner === undefined) throw notFound('namespace', ns, 'create it before routing an alias to it');
        if (owner !== collection)
          throw invalid('routing', `names namespace "${ns}" of collection "${owner}", not "${collection}"`);
      }
      const { row, previous } = yield* this.#writeAlias(name, collection, routing, options.expectedVersion);
      yield* this.#audit(actor, 'alias.set', name, {
        collection,
        routing,
        previous,
        version: Number(row.version),
        reason: options.reason ?? null,
      });
      return aliasFromRow(row);
    });
  }

  async getAlias(name: string): Promise<Alias> {
    return this.#cached(`a:${name}`, async () => {
      const [row] = await this.#all<AliasRow>(this.#sql.alias, [name]);
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
    const key = collection ?? null;
    return (await this.#all<AliasRow>(this.#sql.aliases, [key, key])).map(aliasFromRow);
  }

  async audit(actor: string, action: string, subject: string, details: Details = {}): Promise<AuditEntry> {
    checkActor(actor);
    if (typeof action !== 'string' || action.length === 0)
      throw invalid('action', 'must be a non-empty string');
    return this.#write('append to the audit log', function* (this: SqlCatalog): SqlWork<AuditEntry> {
      return yield* this.#audit(actor, action, subject, details);
    });
  }

  /** Entries in commit order; with `limit`, the newest `limit` matching entries (still oldest first). */
  async listAudit(options: AuditFilter = {}): Promise<AuditEntry[]> {
    const f = checkAuditFilter(options);
    const pattern = (value: string | undefined): string | null =>
      value === undefined ? null : this.#d.wildcard(value);
    const [subject, action, actor] = [pattern(f.subject), pattern(f.action), pattern(f.actor)];
    const [since, until] = [f.since ?? null, f.until ?? null];
    const params = [subject, subject, action, action, actor, actor, since, since, until, until];
    const found = await this.#db.all<AuditRow>('read the audit log', this.#sql.audit, [
      ...params,
      f.limit ?? this.#d.noLimit,
    ]);
    return found.map(auditFromRow);
  }

  /**
   * The alias write inside the caller's transaction: one INSERT (a new alias) or one UPDATE of the row
   * under its lock and a version compare-and-set (invariant 7). A concurrent creator of the same new alias
   * makes our INSERT a no-op (PostgreSQL); we then continue as an update of its row.
   */
  *#writeAlias(
    name: string,
    collection: string,
    routing: Routing,
    expected: number | undefined,
  ): SqlWork<{ row: AliasRow; previous: unknown }> {
    const json = JSON.stringify(routing);
    const serving = servingNamespaceOf(routing);
    const now = this.#now();
    let current = yield* this.#one<AliasRow>(this.#sql.aliasForUpdate, name);
    let row: AliasRow | undefined;
    if (!current) {
      if (expected !== undefined && expected !== 0) throw aliasConflict(name, expected, 0);
      [row] = yield* rows<AliasRow>(this.#sql.insertAlias, [name, collection, json, serving, now]);
      if (!row) current = yield* this.#one<AliasRow>(this.#sql.aliasForUpdate, name);
    }
    if (current) {
      if (current.collection !== collection) {
        throw invalid(
          'collection',
          `"${collection}" differs: alias "${name}" belongs to "${current.collection}"`,
        );
      }
      const held = Number(current.version);
      if (expected !== undefined && expected !== held) throw aliasConflict(name, expected, held);
      [row] = yield* rows<AliasRow>(this.#sql.updateAlias, [json, serving, now, name, held]);
    }
    if (!row) throw aliasConflict(name, expected ?? 0, -1);
    return { row, previous: current ? jsonValue<unknown>(current.routing) : null };
  }

  *#audit(actor: string, action: string, subject: string, details: Details): SqlWork<AuditEntry> {
    const at = this.#now();
    const json = JSON.stringify(details ?? {});
    const [inserted] = yield* rows<{ id: number | string }>(this.#sql.insertAudit, [
      at,
      actor,
      action,
      subject,
      json,
    ]);
    return auditFromRow({ id: inserted?.id ?? 0, at, actor, action, subject, details: json });
  }

  /** Runs `work` (a generator method of this catalog) in one write transaction. */
  #write<T>(what: string, work: (this: SqlCatalog) => SqlWork<T>): Promise<T> {
    return this.#db.write(what, () => work.call(this));
  }

  /** An INSERT whose unique violation (a concurrent writer won) is `error`. */
  *#insertUnique(error: Error, text: string, params: readonly unknown[]): SqlWork<void> {
    try {
      yield* exec(text, params);
    } catch (cause) {
      if (this.#d.uniqueViolation(cause)) throw error;
      throw cause;
    }
  }

  *#one<R>(text: string, key: string): SqlWork<R | undefined> {
    return (yield* rows<R>(text, [key]))[0];
  }

  *#namespaceForUpdate(name: string): SqlWork<NamespaceRow> {
    const row = yield* this.#one<NamespaceRow>(this.#sql.namespaceForUpdate, name);
    if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
    return row;
  }

  #all<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.#db.all<R>('read the catalog', text, params);
  }

  async #spaceNames(): Promise<string[]> {
    return (await this.#all<{ name: string }>(this.#sql.spaceNames)).map((r) => r.name);
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  /**
   * A frozen catalog value read since the database last changed, or `load()` (failures are not kept). A
   * value is kept only if the stamp did not move while it loaded, so a read that raced a change is
   * never reused.
   */
  async #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.#changeStamp) return load();
    const stamp = this.#changeStamp();
    if (stamp !== this.#stamp) {
      this.#reads.clear();
      this.#stamp = stamp;
    }
    if (this.#reads.has(key)) return this.#reads.get(key) as T;
    const value = await load();
    if (this.#stamp === stamp && this.#changeStamp() === stamp) this.#reads.set(key, value);
    return value;
  }

  #space(row: SpaceRow): Space {
    let space = this.#spaces.get(row.fingerprint);
    if (!space) {
      space = spaceFromRow(row);
      this.#spaces.set(row.fingerprint, space);
    }
    return space;
  }

  async #namespace(row: NamespaceRow): Promise<Namespace> {
    let space = this.#spaces.get(row.fingerprint);
    if (!space) {
      const [spaceRow] = await this.#all<SpaceRow>(this.#sql.spaceByFingerprint, [row.fingerprint]);
      space = this.#space(spaceRow as SpaceRow);
    }
    return namespaceFromRow(row, space);
  }
}

/** A JSON object column, as text (SQLite) or parsed (PostgreSQL's jsonb). */
function jsonObjectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'string' ? parseJsonObject(value) : { ...(value as Record<string, unknown>) };
}
