import { exitCodeFor, ReembedError } from '../core/errors.js';
import type { CliContext } from './context.js';

/**
 * Ends a command whose work the user interrupted and which stopped cleanly, after it printed its partial
 * result: the `ABORTED` error line (exit 130, as a shell reports a process ended by SIGINT) with a message
 * that says what was kept and how to carry on. With `--json` the result printed already carries the
 * error, so nothing more is printed (one JSON document).
 */
export function endInterrupted(ctx: CliContext, message: string): number {
  // Nobody reads stdout any more (`… | head`): stop quietly, with the status of a process ended by SIGPIPE.
  if (ctx.interrupt().reason === 'EPIPE') return SIGPIPE_EXIT;
  const error = new ReembedError('ABORTED', message);
  if (!ctx.globals.json) ctx.out.error(error.code, error.message);
  return exitCodeFor(error);
}

/** 128 + SIGPIPE: what a shell reports for a writer whose reader went away. */
export const SIGPIPE_EXIT = 141;
