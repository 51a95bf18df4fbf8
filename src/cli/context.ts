import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { OpenOptions } from '../app/open.js';
import type { Reembed } from '../app/reembed.js';
import { ReembedError } from '../core/errors.js';
import { Output, type TextSink } from './output.js';
import { createProgress, type ProgressReporter } from './progress.js';

/** The process edges a command may touch, injectable so tests run the CLI in-process. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * Subscribes to interrupts — the user's SIGINT or SIGTERM, or `EPIPE` once stdout's reader has gone —
   * and returns the unsubscribe; default: the process's signals. Tests inject one to interrupt an
   * in-process command.
   */
  readonly onInterrupt?: (handler: (reason: string) => void) => () => void;
}

/** The process's SIGINT and SIGTERM, as `CliIo.onInterrupt`. */
export function processInterrupts(handler: (signal: string) => void): () => void {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}

/** Options every command accepts (declared once on the program in main.ts). */
export interface GlobalOptions {
  /** Absolute path of the SQLite file. */
  readonly db: string;
  /** True when `--db` was given (the demo otherwise uses a fresh temp file). */
  readonly dbGiven: boolean;
  /** PostgreSQL URL from `--pg` or `REEMBED_PG_URL`; selects the pgvector backend. */
  readonly pg: string | null;
  /** LanceDB URI from `--lancedb` or `REEMBED_LANCEDB_URI`: vectors in LanceDB, catalog in the SQLite file. */
  readonly lancedb: string | null;
  readonly json: boolean;
  readonly actor: string | null;
  readonly quiet: boolean;
}

/**
 * What a command receives: resolved global options, output, progress and a lazily opened app.
 * Commands are `(ctx, args) => Promise<exitCode>`; they never read argv or write to process streams.
 */
export interface CliContext {
  readonly io: CliIo;
  readonly globals: GlobalOptions;
  readonly out: Output;
  readonly progress: ProgressReporter;
  /** Directory of the database file: where model files live (`<dataDir>/.reembed/models`). */
  readonly dataDir: string;
  /**
   * The library facade over the configured backend, opened on first call and closed by main.ts after the
   * command. Refuses a missing SQLite file (`NOT_FOUND`: run `reembed init`) unless `create` is set.
   * `db` overrides the SQLite file and `embedded` ignores `--pg`; `pgSchema` opens another Postgres schema
   * (dropped on close with `pgDropSchemaOnClose`: the demo's throwaway schema).
   */
  app(options?: {
    create?: boolean;
    db?: string;
    embedded?: boolean;
    pgSchema?: string;
    pgDropSchemaOnClose?: boolean;
    /** Shadow sampling's source of randomness (the demo seeds it). */
    random?: () => number;
  }): Promise<Reembed>;
  /**
   * A signal that aborts on the user's first interrupt (Ctrl-C, SIGTERM) or when stdout's reader has gone
   * (`EPIPE`) while the command runs, for long work that stops at a checkpoint; its `reason` is the
   * interrupt's name. Only the first interrupt is caught: a second one ends the process at once, as the
   * default action would (the note printed at the first says so).
   */
  interrupt(): AbortSignal;
  /** Closes whatever `app()` opened and stops listening for interrupts. Idempotent. */
  close(): Promise<void>;
}

/** Opens the facade; tests substitute it to inject embedders. */
export type AppOpener = (options: OpenOptions) => Promise<Reembed>;

export function resolveGlobals(
  raw: Readonly<Record<string, unknown>>,
  io: CliIo,
  dbGiven: boolean,
): GlobalOptions {
  // An explicit --db wins over REEMBED_PG_URL, so a named SQLite file is never silently swapped for Postgres.
  const pg =
    typeof raw.pg === 'string' && raw.pg !== '' ? raw.pg : dbGiven ? null : (io.env.REEMBED_PG_URL ?? null);
  const lancedb =
    typeof raw.lancedb === 'string' && raw.lancedb !== ''
      ? raw.lancedb
      : (io.env.REEMBED_LANCEDB_URI ?? null);
  return Object.freeze({
    db: resolve(io.cwd, typeof raw.db === 'string' ? raw.db : 'reembed.db'),
    dbGiven,
    pg: pg === '' ? null : pg,
    lancedb: lancedb === '' ? null : lancedb,
    json: raw.json === true,
    actor: typeof raw.actor === 'string' ? raw.actor : null,
    quiet: raw.quiet === true,
  });
}

export function createContext(io: CliIo, globals: GlobalOptions, opener: AppOpener): CliContext {
  const out = new Output(io.stdout, io.stderr, {
    json: globals.json,
    quiet: globals.quiet,
    color: io.env.NO_COLOR === undefined,
  });
  const progress = createProgress(io.stderr, globals);
  let opened: Promise<Reembed> | null = null;
  let interrupt: { controller: AbortController; unsubscribe: () => void } | null = null;
  return {
    io,
    globals,
    out,
    progress,
    dataDir: globals.pg ? io.cwd : dirname(globals.db),
    app(options = {}) {
      if (!opened) {
        const db = options.db ?? globals.db;
        const pg = options.embedded ? null : globals.pg;
        if (!pg && !options.create && !existsSync(db)) {
          return Promise.reject(
            new ReembedError(
              'NOT_FOUND',
              `No reembed database at ${db}. Run \`reembed init\` to create it, or pass --db FILE (or --pg URL).`,
              { details: { db } },
            ),
          );
        }
        opened = opener({
          db,
          // '' (not undefined) so openReembed does not fall back to process.env: io.env is authoritative.
          pg: pg ?? '',
          ...(globals.lancedb && !pg ? { lancedb: globals.lancedb } : {}),
          ...(pg && options.pgSchema ? { pgSchema: options.pgSchema } : {}),
          ...(pg && options.pgDropSchemaOnClose ? { pgDropSchemaOnClose: true } : {}),
          ...(globals.actor ? { actor: globals.actor } : {}),
          ...(options.random ? { random: options.random } : {}),
        });
        opened.catch(() => {
          opened = null;
        });
      }
      return opened;
    },
    interrupt() {
      if (!interrupt) {
        const controller = new AbortController();
        const subscribe = io.onInterrupt ?? processInterrupts;
        const unsubscribe = subscribe((reason) => {
          unsubscribe();
          // A closed stdout (EPIPE) stops the work quietly; the user's interrupt says what happens next.
          if (reason !== 'EPIPE')
            out.note(
              `${reason}: stopping at the next checkpoint (the batches in flight finish); interrupt again to stop at once`,
            );
          controller.abort(reason);
        });
        interrupt = { controller, unsubscribe };
      }
      return interrupt.controller.signal;
    },
    async close() {
      // The signal stays as it is (a command may ask why it stopped after closing the app).
      interrupt?.unsubscribe();
      const app = opened;
      opened = null;
      if (app) await (await app.catch(() => null))?.close();
    },
  };
}
