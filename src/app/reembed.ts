import { type AuditQuery, resolveAuditQuery } from '../core/audit-filter.js';
import { defined } from '../core/defined.js';
import { isReembedError } from '../core/errors.js';
import { type Namespace, type NamespaceManifest, namespaceName } from '../core/namespace.js';
import type { Alias } from '../core/routing.js';
import type { Space } from '../core/space.js';
import type { Backend } from '../ports/backend.js';
import type { AuditEntry, Collection } from '../ports/catalog.js';
import { systemClock } from '../ports/clock.js';
import type { EmbedderFactory } from '../ports/embedder.js';
import type { AliasChange, AliasSetOptions, AliasView } from './aliases.js';
import type { CollectionDeleteOptions, CollectionDeleteReport } from './collection-delete.js';
import { EmbedderCache } from './embedders.js';
import type { DeleteResult, IngestOptions, IngestResult } from './ingest.js';
import { MigrationObserver } from './migrate-observer.js';
import { QueryEngine, type QueryRequest, type QueryResponse } from './query.js';

export interface ReembedOptions {
  /** Who is acting, recorded in the audit log (default: `$USER` or `reembed`). */
  readonly actor?: string;
  /** Receives a query observer's failure, which never fails the query (default: a process warning). */
  readonly onObserverError?: (error: unknown) => void;
  /**
   * Source of randomness for shadow sampling (default `Math.random`): seed it for a reproducible run (the
   * demo passes one seeded by `--seed`, so which queries are shadow samples is the same every time).
   */
  readonly random?: () => number;
}

/**
 * The library facade: one backend (catalog, sources, vectors) plus the embedders of its spaces.
 *
 * @example
 * const app = await openReembed({ db: './reembed.db' });
 * await app.addSpace(hashingSpace('hashing-v1', { dimension: 384 }));
 * await app.createCollection('docs', 'hashing-v1');
 * await app.ingest('docs', [{ id: 'a', text: 'Vectors from two models live in different spaces.' }]);
 * const { hits, trace } = await app.search('docs', { text: 'embedding spaces', k: 5 });
 */
export class Reembed {
  readonly backend: Backend;
  readonly embedders: EmbedderCache;
  readonly queries: QueryEngine;
  readonly actor: string;
  /**
   * What every query through this app records for migrations — shadow agreement samples, per-document hit
   * counts (progressive backfills the most-queried first), namespace traffic (retirement), lazy re-embeds
   * on hit, and (opted in per migration) recent query texts for replay. Null when the backend keeps no
   * migrations. Written in the background and flushed by `close()`.
   */
  readonly observer: MigrationObserver | null;

  constructor(backend: Backend, factory: EmbedderFactory, options: ReembedOptions = {}) {
    this.backend = backend;
    this.embedders = new EmbedderCache(factory);
    this.queries = new QueryEngine(
      backend,
      this.embedders,
      defined({ onObserverError: options.onObserverError, random: options.random }),
    );
    this.actor = options.actor ?? process.env.USER ?? 'reembed';
    const clock = backend.clock ?? systemClock;
    this.observer = backend.migrations ? new MigrationObserver(backend, backend.migrations, { clock }) : null;
    if (this.observer) {
      this.queries.observe(this.observer);
      this.observer.settleBeforeFlush(() => this.queries.settled());
    }
  }

  addSpace(space: Space): Promise<Space> {
    return this.backend.catalog.addSpace(space, this.actor);
  }

  /**
   * Creates a collection served by one namespace in `space`, and an alias of the same name (or `alias`)
   * pointing at it.
   */
  async createCollection(
    name: string,
    spaceName: string,
    options: { alias?: string } = {},
  ): Promise<{ collection: Collection; namespace: Namespace; alias: Alias }> {
    const space = await this.backend.catalog.getSpace(spaceName);
    const collection = await this.backend.catalog.createCollection(name, this.actor);
    const namespace = await this.createNamespace(name, space, 'serving');
    const alias = await this.backend.catalog.setAlias(
      options.alias ?? name,
      name,
      { kind: 'single', namespace: namespace.name },
      this.actor,
    );
    return { collection, namespace, alias };
  }

  /** Registers a namespace in the catalog and creates its physical index in the store. */
  async createNamespace(
    collection: string,
    space: Space,
    state: Namespace['state'],
    createdFrom: string | null = null,
  ): Promise<Namespace> {
    const name = namespaceName(collection, space);
    await this.backend.store.createNamespace({
      name,
      fingerprint: space.fingerprint,
      spaceName: space.name,
      dimension: space.spec.dimension,
      metric: space.spec.metric,
    });
    const created = await this.backend.catalog.createNamespace(
      { collection, space, state, createdFrom },
      this.actor,
    );
    // A namespace that does not serve at once is a migration's target: a backfill of it is near.
    if (state !== 'serving') {
      const { prewarmReaderThread } = await import('../jobs/source-pages.js');
      await prewarmReaderThread(this.backend.sources, collection);
    }
    return created;
  }

  /**
   * Upserts documents (all-or-nothing) and writes them to every writable namespace. Re-ingesting a deleted
   * id restores it by default and reports it in `restored`; `onDeleted: 'skip' | 'refuse'` changes that.
   */
  async ingest(
    collection: string,
    docs: readonly unknown[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const { ingestDocuments } = await import('./ingest.js');
    return ingestDocuments(this.backend, this.embedders, collection, docs, options);
  }

  async delete(collection: string, ids: readonly string[]): Promise<DeleteResult> {
    const { deleteDocuments } = await import('./ingest.js');
    return deleteDocuments(this.backend, collection, ids);
  }

  search(alias: string, request: QueryRequest): Promise<QueryResponse> {
    return this.queries.query(alias, request);
  }

  /** Deletes a collection and everything of it (see `deleteCollection`); `dryRun` only reports. Audited. */
  async deleteCollection(
    name: string,
    options: CollectionDeleteOptions = {},
  ): Promise<CollectionDeleteReport> {
    const { deleteCollection } = await import('./collection-delete.js');
    return deleteCollection(this.backend, this.actor, name, options);
  }

  /**
   * Removes a space no namespace uses (`CONFLICT` naming them otherwise). Missing: `NOT_FOUND`, or
   * `{ removed: null }` with `ifExists`. Audited as `space.remove`.
   */
  async removeSpace(
    name: string,
    options: { ifExists?: boolean; reason?: string } = {},
  ): Promise<{ removed: Space | null }> {
    try {
      const removed = await this.backend.catalog.removeSpace(name, this.actor, {
        reason: options.reason ?? null,
      });
      return { removed };
    } catch (error) {
      if (options.ifExists && isReembedError(error, 'NOT_FOUND')) return { removed: null };
      throw error;
    }
  }

  /** Aliases (of one collection, or all), each with the unfinished migration that owns its routing. */
  async listAliases(collection?: string): Promise<AliasView[]> {
    const { listAliasViews } = await import('./aliases.js');
    return listAliasViews(this.backend, collection);
  }

  async getAlias(name: string): Promise<AliasView> {
    const { aliasView } = await import('./aliases.js');
    return aliasView(this.backend, name);
  }

  /**
   * Creates or re-points an alias to serve one namespace (see `setAliasTarget` for what is refused).
   *
   * @example
   * await app.setAlias('docs-stable', 'docs@hashing-v1', { reason: 'pin for the nightly export' });
   */
  async setAlias(name: string, namespace: string, options: AliasSetOptions = {}): Promise<AliasChange> {
    const { setAliasTarget } = await import('./aliases.js');
    return setAliasTarget(this.backend, this.actor, name, namespace, options);
  }

  /**
   * Reads the audit log: every control-plane change with its time and actor (invariant 8).
   *
   * @example
   * await app.auditLog({ action: 'migration.*', since: '24h', limit: 50 });
   */
  async auditLog(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const clock = this.backend.clock ?? systemClock;
    return this.backend.catalog.listAudit(resolveAuditQuery(query, clock.now()));
  }

  async status(collection?: string): Promise<NamespaceManifest[]> {
    const { namespaceManifest } = await import('./status.js');
    const namespaces = await this.backend.catalog.listNamespaces(collection);
    const out: NamespaceManifest[] = [];
    for (const ns of namespaces) out.push(await namespaceManifest(this.backend, ns));
    return out;
  }

  /** Releases everything the app holds — embedders, the backend's connections, an idle reader thread. */
  async close(): Promise<void> {
    try {
      await this.queries.settled();
      await this.observer?.flush().catch(() => undefined);
      await this.embedders.close();
    } finally {
      await this.backend.close();
    }
  }
}
