import { checkAuditFilter } from '../../core/audit-filter.js';
import { canonicalJson } from '../../core/canonical.js';
import { ReembedError } from '../../core/errors.js';
import { type Namespace, type NamespaceState, namespaceName } from '../../core/namespace.js';
import { type Alias, namespacesOf, type Routing } from '../../core/routing.js';
import { assertName, defineSpace, isSpace, type Space } from '../../core/space.js';
import { spaceConflict, spaceDifferences } from '../../core/space-diff.js';
import type { AuditEntry, AuditFilter, Catalog, Collection, NewNamespace } from '../../ports/catalog.js';
import type { Clock } from '../../ports/clock.js';
import { spaceInUse, unknownSpace } from '../shared/catalog-errors.js';
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
import { checkRouting } from '../shared/routing-check.js';
import { writeAlias } from './alias-write.js';
import {
  checkActor,
  checkState,
  exists,
  invalid,
  notFound,
  one,
  retryOnce,
  uniqueAs,
} from './catalog-support.js';
import { type PgPoolLike, type PgQueryable, run, withTransaction } from './pool.js';
import type { CatalogSql } from './sql-catalog.js';

type Details = Readonly<Record<string, unknown>>;

/**
 * The control plane in PostgreSQL. Every mutation runs in one transaction together with its audit entry
 * (invariant 8); the audit table refuses UPDATE/DELETE by trigger. A cutover (`setAlias`) is one UPDATE
 * of the alias row under a row lock and a version check, so readers see the old routing or the new.
 */
export class PgCatalog implements Catalog {
  readonly #pool: PgPoolLike;
  readonly #sql: CatalogSql;
  readonly #clock: Clock;
  /** Spaces are immutable once registered (fingerprint PK, unique name), so parsed ones are reused. */
  readonly #spaces = new Map<string, Space>();

  constructor(pool: PgPoolLike, sql: CatalogSql, clock: Clock) {
    this.#pool = pool;
    this.#sql = sql;
    this.#clock = clock;
  }

  async addSpace(space: Space, actor: string): Promise<Space> {
    checkActor(actor);
    if (!isSpace(space)) throw invalid('space', 'is not a space: build it with defineSpace()');
    const rebuilt = defineSpace(space.name, space.spec, space.runtime);
    if (rebuilt.fingerprint !== space.fingerprint) {
      throw new ReembedError(
        'INVALID_SPEC',
        `Space "${space.name}" carries fingerprint ${space.fingerprint} but its spec hashes to ${rebuilt.fingerprint}. Build spaces with defineSpace() and do not edit them.`,
        { details: { claimed: space.fingerprint, computed: rebuilt.fingerprint } },
      );
    }
    // A concurrent registration of the same space makes our INSERT fail on a unique key; the retry
    // then finds the committed row and returns it (idempotent), or reports the conflict.
    return retryOnce(() =>
      this.#write('add a space', async (tx) => {
        const byName = await one<SpaceRow>(tx, this.#sql.spaceByName, [rebuilt.name]);
        if (byName) {
          // Identical (geometry and runtime): idempotent. Anything else names the fields that differ.
          const held = this.#space(byName);
          if (spaceDifferences(held, rebuilt).length === 0) return held;
          throw spaceConflict(rebuilt.name, held, rebuilt);
        }
        const byPrint = await one<SpaceRow>(tx, this.#sql.spaceByFingerprint, [rebuilt.fingerprint]);
        if (byPrint) {
          throw new ReembedError(
            'ALREADY_EXISTS',
            `The same space is already registered as "${byPrint.name}" (${rebuilt.fingerprint}); use that name.`,
            { details: { name: byPrint.name, fingerprint: rebuilt.fingerprint } },
          );
        }
        await tx.query(this.#sql.insertSpace, [
          rebuilt.fingerprint,
          rebuilt.name,
          canonicalJson(rebuilt.spec),
          canonicalJson(rebuilt.runtime),
          this.#now(),
        ]);
        await this.#audit(tx, actor, 'space.add', rebuilt.name, {
          fingerprint: rebuilt.fingerprint,
          spec: rebuilt.spec,
        });
        this.#spaces.set(rebuilt.fingerprint, rebuilt);
        return rebuilt;
      }),
    );
  }

  async getSpace(nameOrFingerprint: string): Promise<Space> {
    const row = await one<SpaceRow>(this.#pool, this.#sql.spaceByNameOrFingerprint, [nameOrFingerprint]);
    if (row) return this.#space(row);
    const known = (await run<{ name: string }>(this.#pool, 'list spaces', this.#sql.spaceNames)).map(
      (r) => r.name,
    );
    throw new ReembedError(
      'NOT_FOUND',
      `Unknown space "${nameOrFingerprint}". Known spaces: ${known.length ? known.join(', ') : '(none)'}. Register it first (reembed space add).`,
      { details: { space: nameOrFingerprint, known } },
    );
  }

  async listSpaces(): Promise<Space[]> {
    const rows = await run<SpaceRow>(this.#pool, 'list spaces', this.#sql.listSpaces);
    return rows.map((row) => this.#space(row));
  }

  async createCollection(name: string, actor: string): Promise<Collection> {
    checkActor(actor);
    assertName('collection', name);
    return this.#write('create a collection', async (tx) => {
      if (await one(tx, this.#sql.collection, [name])) throw exists('Collection', name);
      const now = this.#now();
      await uniqueAs(exists('Collection', name), tx.query(this.#sql.insertCollection, [name, now]));
      await this.#audit(tx, actor, 'collection.create', name, {});
      return collectionFromRow({ name, created_at: now });
    });
  }

  async getCollection(name: string): Promise<Collection> {
    const row = await one<CollectionRow>(this.#pool, this.#sql.collection, [name]);
    if (!row) throw notFound('collection', name, 'create it first (reembed collection create)');
    return collectionFromRow(row);
  }

  async listCollections(): Promise<Collection[]> {
    return (await run<CollectionRow>(this.#pool, 'list collections', this.#sql.listCollections)).map(
      collectionFromRow,
    );
  }

  async deleteCollection(name: string, actor: string, details: Details = {}): Promise<void> {
    checkActor(actor);
    await this.#write('delete a collection', async (tx) => {
      if (!(await one(tx, `${this.#sql.collection} FOR UPDATE`, [name])))
        throw notFound('collection', name, 'list collections with reembed collection list');
      for (const sql of [this.#sql.deleteAliases, this.#sql.deleteNamespaces, this.#sql.deleteCollection])
        await tx.query(sql, [name]);
      await this.#audit(tx, actor, 'collection.delete', name, details);
    });
  }

  async removeSpace(name: string, actor: string, details: Details = {}): Promise<Space> {
    checkActor(actor);
    return this.#write('remove a space', async (tx) => {
      const row = await one<SpaceRow>(tx, this.#sql.spaceForUpdate, [name]);
      if (!row) {
        const known = (await tx.query<{ name: string }>(this.#sql.spaceNames)).rows.map((r) => r.name);
        throw unknownSpace(name, known);
      }
      const users = (await tx.query<NamespaceRow>(this.#sql.namespacesOfSpace, [row.fingerprint])).rows;
      if (users.length > 0) throw spaceInUse(name, users);
      await tx.query(this.#sql.deleteSpace, [row.fingerprint]);
      const space = this.#space(row);
      this.#spaces.delete(row.fingerprint);
      await this.#audit(tx, actor, 'space.remove', name, {
        fingerprint: row.fingerprint,
        spec: space.spec,
        ...details,
      });
      return space;
    });
  }

  async createNamespace(input: NewNamespace, actor: string): Promise<Namespace> {
    checkActor(actor);
    checkState(input.state);
    const name = namespaceName(input.collection, input.space);
    return this.#write('create a namespace', async (tx) => {
      if (!(await one(tx, this.#sql.collection, [input.collection]))) {
        throw notFound('collection', input.collection, 'create it before its namespaces');
      }
      const space = await one<SpaceRow>(tx, this.#sql.spaceByFingerprint, [input.space.fingerprint]);
      if (!space || space.name !== input.space.name) {
        throw notFound(
          'space',
          `${input.space.name} (${input.space.fingerprint})`,
          'register it with addSpace first',
        );
      }
      if (await one(tx, this.#sql.namespace, [name])) throw exists('Namespace', name);
      const now = this.#now();
      const inserted = await uniqueAs(
        exists('Namespace', name),
        tx.query<NamespaceRow>(this.#sql.insertNamespace, [
          name,
          input.collection,
          input.space.fingerprint,
          input.state,
          now,
          input.createdFrom ?? null,
          input.state === 'retired' ? now : null,
          JSON.stringify(input.info ?? {}),
        ]),
      );
      await this.#audit(tx, actor, 'namespace.create', name, {
        collection: input.collection,
        space: input.space.name,
        fingerprint: input.space.fingerprint,
        state: input.state,
        createdFrom: input.createdFrom ?? null,
      });
      return this.#namespace(tx, inserted.rows[0] as NamespaceRow);
    });
  }

  async getNamespace(name: string): Promise<Namespace> {
    const row = await one<NamespaceRow>(this.#pool, this.#sql.namespace, [name]);
    if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
    return this.#namespace(this.#pool, row);
  }

  async listNamespaces(collection?: string): Promise<Namespace[]> {
    const rows = await run<NamespaceRow>(this.#pool, 'list namespaces', this.#sql.listNamespaces, [
      collection ?? null,
    ]);
    const out: Namespace[] = [];
    for (const row of rows) out.push(await this.#namespace(this.#pool, row));
    return out;
  }

  async setNamespaceState(name: string, state: NamespaceState, actor: string): Promise<Namespace> {
    checkActor(actor);
    checkState(state);
    return this.#write('change a namespace state', async (tx) => {
      const row = await one<NamespaceRow>(tx, this.#sql.namespaceForUpdate, [name]);
      if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
      if (row.state === state) return this.#namespace(tx, row);
      const retiredAt = state === 'retired' ? this.#now() : null;
      const updated = await one<NamespaceRow>(tx, this.#sql.setNamespaceState, [name, state, retiredAt]);
      await this.#audit(tx, actor, 'namespace.state', name, { from: row.state, to: state });
      return this.#namespace(tx, updated as NamespaceRow);
    });
  }

  /** Audited as actor `system`: info holds bookkeeping (checkpoint summaries, last eval), not decisions. */
  async updateNamespaceInfo(name: string, patch: Readonly<Record<string, unknown>>): Promise<Namespace> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch))
      throw invalid('patch', 'must be an object');
    return this.#write('update namespace info', async (tx) => {
      const row = await one<NamespaceRow>(tx, this.#sql.mergeNamespaceInfo, [name, JSON.stringify(patch)]);
      if (!row) throw notFound('namespace', name, 'list namespaces with reembed status');
      await this.#audit(tx, 'system', 'namespace.info', name, { patch });
      return this.#namespace(tx, row);
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
    return this.#write('set an alias', async (tx) => {
      if (!(await one(tx, this.#sql.collection, [collection])))
        throw notFound('collection', collection, 'create it first');
      const wanted = namespacesOf(routing);
      const found = new Map(
        (
          await tx.query<{ name: string; collection: string }>(this.#sql.namespacesForShare, [wanted])
        ).rows.map((r) => [r.name, r.collection]),
      );
      for (const ns of wanted) {
        const owner = found.get(ns);
        if (owner === undefined) throw notFound('namespace', ns, 'create it before routing an alias to it');
        if (owner !== collection) {
          throw invalid('routing', `names namespace "${ns}" of collection "${owner}", not "${collection}"`);
        }
      }
      const { row, previous } = await writeAlias(
        tx,
        this.#sql,
        { name, collection, routing, now: this.#now() },
        options,
      );
      await this.#audit(tx, actor, 'alias.set', name, {
        collection,
        routing,
        previous,
        version: row.version,
        reason: options.reason ?? null,
      });
      return aliasFromRow(row);
    });
  }

  async getAlias(name: string): Promise<Alias> {
    const row = await one<AliasRow>(this.#pool, this.#sql.alias, [name]);
    if (!row)
      throw notFound(
        'alias',
        name,
        'list aliases with reembed alias list, or create it with reembed alias set <alias> <namespace>',
      );
    return aliasFromRow(row);
  }

  async listAliases(collection?: string): Promise<Alias[]> {
    return (await run<AliasRow>(this.#pool, 'list aliases', this.#sql.listAliases, [collection ?? null])).map(
      aliasFromRow,
    );
  }

  async audit(actor: string, action: string, subject: string, details: Details = {}): Promise<AuditEntry> {
    checkActor(actor);
    if (typeof action !== 'string' || action.length === 0)
      throw invalid('action', 'must be a non-empty string');
    return this.#write('append to the audit log', (tx) => this.#audit(tx, actor, action, subject, details));
  }

  /** Entries in commit order; with `limit`, the newest `limit` matching entries (still oldest first). */
  async listAudit(options: AuditFilter = {}): Promise<AuditEntry[]> {
    const f = checkAuditFilter(options);
    const rows = await run<AuditRow>(this.#pool, 'read the audit log', this.#sql.listAudit, [
      likePattern(f.subject),
      likePattern(f.action),
      f.limit ?? null,
      likePattern(f.actor),
      f.since ?? null,
      f.until ?? null,
    ]);
    return rows.map(auditFromRow);
  }

  async #audit(
    tx: PgQueryable,
    actor: string,
    action: string,
    subject: string,
    details: Details,
  ): Promise<AuditEntry> {
    const at = this.#now();
    const json = JSON.stringify(details ?? {});
    const { rows } = await tx.query<{ id: string }>(this.#sql.insertAudit, [
      at,
      actor,
      action,
      subject,
      json,
    ]);
    return auditFromRow({ id: rows[0]?.id ?? 0, at, actor, action, subject, details: JSON.parse(json) });
  }

  #write<T>(what: string, fn: (tx: PgQueryable) => Promise<T>): Promise<T> {
    return withTransaction(this.#pool, what, fn);
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }

  #space(row: SpaceRow): Space {
    let space = this.#spaces.get(row.fingerprint);
    if (!space) {
      space = spaceFromRow(row);
      this.#spaces.set(row.fingerprint, space);
    }
    return space;
  }

  async #namespace(db: PgQueryable, row: NamespaceRow): Promise<Namespace> {
    let space = this.#spaces.get(row.fingerprint);
    if (!space)
      space = this.#space(
        (await one<SpaceRow>(db, this.#sql.spaceByFingerprint, [row.fingerprint])) as SpaceRow,
      );
    return namespaceFromRow(row, space);
  }
}

/** An audit filter value as a LIKE pattern: `*` is a wildcard; `%`, `_` and the backslash are literal. */
function likePattern(value: string | undefined): string | null {
  if (value === undefined) return null;
  return value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}
