import type { Migration, MigrationState } from '../core/migration.js';

/** What creating a migration states; the repository sets its state, version and times. */
export interface NewMigration
  extends Pick<Migration, 'id' | 'collection' | 'alias' | 'from' | 'to' | 'strategy' | 'options'> {
  readonly info?: Migration['info'];
}

export interface TransitionOptions {
  /** Compare-and-set: fail with `CONFLICT` when another writer changed the migration first. */
  readonly expectedVersion?: number;
  /** Written to the audit entry of the transition. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Shallow-merged into the migration's info in the same write. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** One shadow-read comparison (served vs shadow namespace) for one sampled query. */
export interface AgreementSample {
  readonly migrationId: string;
  readonly at: string;
  /** Migration state when the sample was taken: gates read the `shadowing` phase only. */
  readonly phase: MigrationState;
  readonly tenant: string | null;
  readonly k: number;
  readonly overlap: number;
  readonly rbo: number;
  readonly servedMs: number;
  readonly shadowMs: number;
}

export interface AgreementSummary {
  readonly samples: number;
  /** Per k: mean overlap@k over the samples taken at that k. */
  readonly overlap: Readonly<Record<number, number>>;
  readonly rbo: number | null;
  readonly servedMs: { readonly p50: number | null; readonly p99: number | null };
  readonly shadowMs: { readonly p50: number | null; readonly p99: number | null };
  /** Per tenant (`''` for none): samples and mean RBO, to spot a tenant the new model serves badly. */
  readonly tenants: Readonly<Record<string, { readonly samples: number; readonly rbo: number }>>;
}

/** A query text served through a migrating alias, kept (opted in per migration) for `migrate replay`. */
export interface ServedQuery {
  readonly migrationId: string;
  readonly at: string;
  readonly text: string;
  readonly tenant: string | null;
}

/** How many served queries a migration keeps, and for how long (query text can be sensitive). */
export interface QueryRetention {
  /** The newest this-many are kept. */
  readonly max: number;
  /** Entries older than this (ISO time) are dropped. */
  readonly before: string;
}

/** Last time queries read a namespace (retirement drops only namespaces nobody reads). */
export interface NamespaceTraffic {
  readonly namespace: string;
  readonly lastReadAt: string;
  readonly reads: number;
}

/**
 * Persisted migrations and their bookkeeping. `create` and `transition` append to the audit log in the
 * same transaction as the change (invariant 8), and `transition` enforces the core transition table.
 */
export interface MigrationRepository {
  /** Stores a new migration in state `planned`. `CONFLICT` if the alias already has an unfinished one. */
  create(input: NewMigration, actor: string): Promise<Migration>;
  /** `NOT_FOUND` naming the known migrations otherwise. */
  get(id: string): Promise<Migration>;
  /** Newest first. `active` keeps migrations that have not reached a terminal state. */
  list(filter?: { collection?: string; alias?: string; active?: boolean }): Promise<Migration[]>;
  /** Moves to `to` if the table and the strategy allow it (`INVALID_TRANSITION` otherwise). */
  transition(id: string, to: MigrationState, actor: string, options?: TransitionOptions): Promise<Migration>;
  /** Shallow-merges bookkeeping into info, audited as `migration.info` with the actor. */
  updateInfo(id: string, patch: Readonly<Record<string, unknown>>, actor: string): Promise<Migration>;

  recordAgreement(samples: readonly AgreementSample[]): Promise<void>;
  agreementSummary(migrationId: string, options?: { phase?: MigrationState }): Promise<AgreementSummary>;

  /** Adds reads to each namespace's counter and moves its last-read time forward (never back). */
  recordReads(reads: readonly NamespaceTraffic[]): Promise<void>;
  traffic(namespace: string): Promise<NamespaceTraffic | null>;
  /**
   * Deletes a collection's migrations, their agreement samples, their kept query texts and its
   * namespaces' traffic counters (`collection delete`; the audit log keeps their history). Returns
   * the migrations deleted.
   */
  purge(collection: string): Promise<number>;

  /**
   * Keeps served query texts for replay, then enforces the retention in the same write (optional: a
   * repository without it cannot keep queries, and `migrate replay --recent` says so).
   */
  recordQueries?(queries: readonly ServedQuery[], retention: QueryRetention): Promise<void>;
  /** The newest kept queries of a migration, newest first. */
  recentQueries?(migrationId: string, limit: number): Promise<ServedQuery[]>;
  /** Drops every kept query of a migration (when it finishes); returns how many. */
  forgetQueries?(migrationId: string): Promise<number>;
}
