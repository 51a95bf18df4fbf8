/**
 * Progress of long operations (ingest, backfill, evaluation), reported as events so library code never
 * needs to know whether a terminal, a log or nobody is watching. The CLI renders tasks as progress bars
 * (`src/cli/progress.ts`); the server or a test can count them; `silentProgress` ignores them.
 *
 * @example
 * const task = progress.start('ingest docs', { total: docs.length, unit: 'docs' });
 * for (const batch of batches) { await write(batch); task.advance(batch.length); }
 * task.end();
 */
export interface ProgressTask {
  /** Adds `n` completed units (default 1). */
  advance(n?: number): void;
  /** Sets the total once it is known (or corrects it); until then the task is open-ended. */
  setTotal(total: number): void;
  /** Finishes the task; further calls are ignored. */
  end(): void;
}

export interface ProgressReporter {
  start(label: string, options?: { readonly total?: number; readonly unit?: string }): ProgressTask;
}

const noopTask: ProgressTask = Object.freeze({
  advance: () => {},
  setTotal: () => {},
  end: () => {},
});

/** Reports nothing: the default when no one is watching (`--json`, `--quiet`, no TTY, tests). */
export const silentProgress: ProgressReporter = Object.freeze({ start: () => noopTask });
