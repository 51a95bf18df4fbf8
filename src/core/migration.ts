import { ReembedError } from './errors.js';
import { deepFreeze } from './freeze.js';
import type { FusionPolicy, Routing } from './routing.js';

/**
 * A migration moves an alias from one namespace to another, as a persisted state machine. The states,
 * the one transition table and each strategy's path live here, pure; the repository enforces them
 * again when it stores a transition (STYLE #5), and every transition is audited (invariant 8).
 */
export const MIGRATION_STATES = [
  'planned',
  'backfilling',
  'validating',
  'shadowing',
  'rolling-out',
  'cut-over',
  'retiring',
  'retired',
  'rolled-back',
] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export const MIGRATION_STRATEGIES = ['blue-green', 'shadow', 'progressive', 'lazy'] as const;
export type MigrationStrategy = (typeof MIGRATION_STRATEGIES)[number];

/** States no transition leaves. `rolled-back` keeps both namespaces; `retired` dropped the old one's vectors. */
export const TERMINAL_STATES: readonly MigrationState[] = ['retired', 'rolled-back'];

/**
 * The one transition table. A loop back to `backfilling` lets validation send a migration back when it
 * finds records the backfill must regenerate (a crash between a source commit and its dual-write).
 * Rollback is possible from every state before `retired`.
 */
export const TRANSITIONS: Readonly<Record<MigrationState, readonly MigrationState[]>> = Object.freeze({
  planned: ['backfilling', 'rolled-back'],
  backfilling: ['validating', 'rolled-back'],
  validating: ['backfilling', 'shadowing', 'rolling-out', 'cut-over', 'rolled-back'],
  shadowing: ['backfilling', 'cut-over', 'rolled-back'],
  'rolling-out': ['backfilling', 'cut-over', 'rolled-back'],
  'cut-over': ['retiring', 'rolled-back'],
  retiring: ['retired', 'rolled-back'],
  retired: [],
  'rolled-back': [],
});

/**
 * Each strategy's happy path through the table. A strategy may only move to the next state of its path,
 * loop back to an earlier one the table allows, or roll back.
 */
export const STRATEGY_PATHS: Readonly<Record<MigrationStrategy, readonly MigrationState[]>> = Object.freeze({
  'blue-green': ['planned', 'backfilling', 'validating', 'cut-over', 'retiring', 'retired'],
  shadow: ['planned', 'backfilling', 'validating', 'shadowing', 'cut-over', 'retiring', 'retired'],
  progressive: ['planned', 'backfilling', 'validating', 'rolling-out', 'cut-over', 'retiring', 'retired'],
  lazy: ['planned', 'backfilling', 'validating', 'cut-over', 'retiring', 'retired'],
});

export function canTransition(
  strategy: MigrationStrategy,
  from: MigrationState,
  to: MigrationState,
): boolean {
  if (!TRANSITIONS[from].includes(to)) return false;
  if (to === 'rolled-back') return true;
  const path = STRATEGY_PATHS[strategy];
  const i = path.indexOf(from);
  const j = path.indexOf(to);
  return i >= 0 && j >= 0 && (j === i + 1 || j < i);
}

/** Throws `INVALID_TRANSITION` naming the states the migration may move to instead. */
export function assertTransition(
  migration: Pick<Migration, 'id' | 'strategy' | 'state'>,
  to: MigrationState,
): void {
  if (canTransition(migration.strategy, migration.state, to)) return;
  const allowed = MIGRATION_STATES.filter((s) => canTransition(migration.strategy, migration.state, s));
  throw new ReembedError(
    'INVALID_TRANSITION',
    `Migration ${migration.id} (${migration.strategy}) cannot go from "${migration.state}" to "${to}". ` +
      (allowed.length
        ? `It can go to: ${allowed.join(', ')}.`
        : 'It has finished; start a new migration instead.'),
    {
      details: { migration: migration.id, strategy: migration.strategy, from: migration.state, to, allowed },
    },
  );
}

/** The next state on the strategy's path (never `rolled-back`), or null at the end. */
export function nextState(strategy: MigrationStrategy, state: MigrationState): MigrationState | null {
  const path = STRATEGY_PATHS[strategy];
  const i = path.indexOf(state);
  return i >= 0 && i + 1 < path.length ? (path[i + 1] as MigrationState) : null;
}

export function isTerminal(state: MigrationState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** Cutover committed: the migration is complete (invariant 6), whatever retirement still has to do. */
export function isComplete(state: MigrationState): boolean {
  return state === 'cut-over' || state === 'retiring' || state === 'retired';
}

/**
 * `CONFLICT` for a second migration of an alias whose migration is unfinished, saying how to end it: a
 * migration that cut over sits in its rollback window until `migrate finish` closes it (or retirement
 * does, when the window elapses); one that has not cut over yet is cut over or rolled back.
 */
export function unfinishedMigrationConflict(
  alias: string,
  open: { readonly id: string | null; readonly state: string | null },
): ReembedError {
  const cutOver = open.state !== null && isComplete(open.state as MigrationState);
  const how = cutOver
    ? `It was cut over and is in its rollback window: close it now with \`reembed migrate finish ${alias} --reason "..."\` ` +
      `(no rollback afterwards), or roll it back with \`reembed migrate rollback ${alias}\`.`
    : `Cut it over (\`reembed migrate cutover ${alias}\`) or roll it back (\`reembed migrate rollback ${alias}\`) first.`;
  return new ReembedError(
    'CONFLICT',
    `Alias "${alias}" already has migration ${open.id ?? '(being created)'} in state "${open.state ?? 'planned'}". ${how}`,
    { details: { alias, migration: open.id, state: open.state } },
  );
}

export interface BackfillSettings {
  /** Documents per embedding batch (and per committed write). */
  readonly batchSize: number;
  /** Upper bound of tokens per batch (null: by count only). */
  readonly maxBatchTokens: number | null;
  readonly concurrency: number;
  readonly requestsPerMinute: number | null;
  readonly tokensPerMinute: number | null;
  /** Attempts of a batch after a transient failure before the job stops (resumable). */
  readonly maxRetries: number;
  /** Per-call timeout of the embedder; a timeout is a transient failure. */
  readonly timeoutMs: number | null;
}

/** Resolved options of a migration (validated at the boundary, see `app/migrate-options.ts`). */
export interface MigrationOptions {
  /** Gate rules (`core/gates.ts` grammar) a cutover must pass. */
  readonly gates: readonly string[];
  /** Shadow: share of queries also run on the new namespace. */
  readonly sampleRate: number;
  /** Shadow: agreement samples needed before `shadow.*` facts count. */
  readonly minShadowSamples: number;
  /** Progressive: traffic percentages in order; the last one must be 100. */
  readonly steps: readonly number[];
  /** Progressive: move tenants whose documents are all current, ahead of the percentage. */
  readonly tenants: boolean;
  /**
   * Progressive: how long each traffic step is observed before the next (a duration, `0s` = no wait).
   * Absent in migrations stored before it existed: read as `0s`.
   */
  readonly stepHold?: string;
  /** Lazy: how the two namespaces' results are fused. */
  readonly fusion: FusionPolicy;
  /** How long the old namespace is kept for rollback after cutover, e.g. `7d`. */
  readonly rollbackWindow: string;
  /** Golden set (BEIR directory or JSONL file) evaluated on both namespaces for `new.*` / `old.*` gate facts. */
  readonly golden: string | null;
  /**
   * Stored probe set (`probe:<name>`) evaluated on both namespaces for `new.probe.*` / `old.probe.*` gate
   * facts when there is no judged golden set; null when the migration has none. Absent in migrations
   * stored before probes existed.
   */
  readonly probe?: string | null;
  /**
   * True when `gates` are the defaults rather than rules the user gave: the gates then follow what can be
   * measured (a judged set, else a probe, else a gate that refuses until a judged set is given or the
   * cutover is forced). Absent (false) in migrations stored before probes existed.
   */
  readonly defaultGates?: boolean;
  /**
   * Shadow: keep the texts of queries served through the alias (at most `max`, none older than `for`)
   * so `migrate replay --recent` can run them on both namespaces. Off (null) unless opted in: query text
   * can be sensitive. Dropped when the migration finishes.
   */
  readonly keepQueries?: { readonly max: number; readonly for: string } | null;
  readonly backfill: BackfillSettings;
  /**
   * Lazy or progressive: serve the new model from day 0 through a gated adapter (issue 17). Absent or
   * null: no bridge.
   * At input the adapter may be omitted (the newest passed adapter between the two spaces is taken) and
   * `primary` is resolved by `start`; a stored migration always holds all four fields.
   */
  readonly bridge?: MigrationBridge | null;
}

/** A bridged migration's adapter, resolved when it starts. */
export interface MigrationBridge {
  /** `query`: new-model queries mapped into the old namespace; `corpus`: the adapter's derived namespace. */
  readonly direction: 'query' | 'corpus';
  /** The adapter's fingerprint. */
  readonly adapter: string;
  readonly name: string;
  /** The namespace read as the routing's primary: the old one (query) or the derived one (corpus). */
  readonly primary: string;
}

export interface Migration {
  readonly kind: 'migration';
  readonly id: string;
  readonly collection: string;
  readonly alias: string;
  /** Namespace served before the migration. */
  readonly from: string;
  /** Namespace being built. */
  readonly to: string;
  readonly strategy: MigrationStrategy;
  readonly state: MigrationState;
  readonly options: MigrationOptions;
  /** Compare-and-set guard: incremented by every stored change. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the cutover committed; null before. */
  readonly completedAt: string | null;
  /** Bookkeeping: rollout percent and tenants, alias versions, retirement deadline. */
  readonly info: Readonly<Record<string, unknown>>;
}

export function isMigration(value: unknown): value is Migration {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'migration';
}

/** Builds the frozen value every repository returns. */
export function migrationValue(fields: Omit<Migration, 'kind'>): Migration {
  return deepFreeze({ kind: 'migration' as const, ...fields });
}

/** Stable id of a migration: `mig_` + the target namespace + a short time suffix, readable in the audit log. */
export function migrationId(to: string, at: Date): string {
  return `mig_${to}_${at.getTime().toString(36)}`;
}

export const STEP_STATUSES = ['done', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What happened to one step of a multi-step operation (STYLE #8): no operation throws halfway. */
export interface StepResult {
  readonly kind: 'step';
  readonly name: string;
  readonly status: StepStatus;
  readonly detail: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export function stepResult(
  name: string,
  status: StepStatus,
  detail: string,
  data?: Readonly<Record<string, unknown>>,
): StepResult {
  return Object.freeze({ kind: 'step' as const, name, status, detail, ...(data ? { data } : {}) });
}

export interface MigrationReport {
  readonly kind: 'migration-report';
  readonly migration: Migration;
  readonly steps: readonly StepResult[];
  /** False when any step failed. */
  readonly ok: boolean;
}

export function migrationReport(migration: Migration, steps: readonly StepResult[]): MigrationReport {
  return Object.freeze({
    kind: 'migration-report' as const,
    migration,
    steps: Object.freeze([...steps]),
    ok: steps.every((s) => s.status !== 'failed'),
  });
}

/**
 * The alias routing a strategy serves while it runs: shadow reads the new namespace on a sample of
 * queries without serving it; progressive splits traffic (starting at 0% and no tenant); lazy fuses both.
 * Blue-green returns null: the alias keeps serving the old namespace alone until the cutover.
 */
export function migrationRouting(
  m: Pick<Migration, 'strategy' | 'from' | 'to' | 'options'>,
  rollout: { readonly percent: number; readonly tenants: readonly string[] } = { percent: 0, tenants: [] },
): Routing | null {
  switch (m.strategy) {
    case 'blue-green':
      return null;
    case 'shadow':
      return { kind: 'shadow', primary: m.from, shadow: m.to, sampleRate: m.options.sampleRate };
    case 'progressive': {
      // Bridged: the share not yet moved is served by the bridge alone (the old model is gone), the moved
      // share by the new namespace with its not-yet-backfilled part answered through the adapter.
      const bridge = m.options.bridge;
      return {
        kind: 'split',
        primary: bridge ? bridge.primary : m.from,
        next: m.to,
        percent: rollout.percent,
        tenants: [...rollout.tenants],
        ...(bridge ? { bridge: { adapter: bridge.adapter, direction: bridge.direction } } : {}),
      };
    }
    case 'lazy': {
      const bridge = m.options.bridge;
      if (bridge) {
        return {
          kind: 'fused',
          primary: bridge.primary,
          next: m.to,
          fusion: { ...m.options.fusion },
          bridge: { adapter: bridge.adapter, direction: bridge.direction },
        };
      }
      return { kind: 'fused', primary: m.from, next: m.to, fusion: { ...m.options.fusion } };
    }
  }
}

/**
 * Progressive rollout: the traffic share may never exceed the share of documents already current in the
 * new namespace, so the percentage is the largest configured step at or below coverage.
 */
export function rolloutPercentFor(steps: readonly number[], coverageRatio: number): number {
  let percent = 0;
  for (const step of steps) if (step <= coverageRatio * 100 + 1e-9) percent = Math.max(percent, step);
  return percent;
}

/** The configured step after `current` (or `current` itself at the end). */
export function nextRolloutStep(steps: readonly number[], current: number): number {
  return steps.find((s) => s > current) ?? current;
}

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 604800e3,
};

/** `7d`, `36h`, `90m`, `30s`, `0s` → milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Duration "${text}" is invalid: write a number and a unit, e.g. 7d, 36h, 90m or 30s.`,
      {
        details: { value: text },
      },
    );
  }
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}
