import type { CliIo } from './context.js';
import type { TextSink } from './output.js';

/** Why a command is asked to stop: the user's signal, or the reader of stdout went away (`… | head`). */
export type InterruptReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/**
 * The real process as the CLI's `CliIo`. A closed output pipe — `reembed search … | head` once `head` has
 * its lines — is not an error: further output is dropped (no EPIPE stack trace), and the command is asked
 * to stop like on SIGPIPE: short commands just finish, long ones stop at their next checkpoint and exit
 * quietly (`endInterrupted`: 141, as a process ended by SIGPIPE). SIGINT and SIGTERM ask the same.
 */
export function processIo(): CliIo {
  const handlers = new Set<(reason: InterruptReason) => void>();
  const notify = (reason: InterruptReason): void => {
    for (const handler of [...handlers]) handler(reason);
  };
  const onSignal = (signal: NodeJS.Signals): void => notify(signal as InterruptReason);
  return {
    stdout: opened(() => pipeSafe(process.stdout, () => notify('EPIPE'))),
    stderr: opened(() => pipeSafe(process.stderr, () => undefined)),
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      if (handlers.size === 0) {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
        if (handlers.size === 0) {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
        }
      };
    },
  };
}

/**
 * A sink over the one `open` returns, called on first use: Node builds `process.stdout` and
 * `process.stderr` on first access, a stream each (for a pipe or a terminal, with the modules behind it),
 * and `reembed --help` writes to stdout only.
 */
function opened(open: () => TextSink): TextSink {
  let sink: TextSink | null = null;
  const get = (): TextSink => {
    sink ??= open();
    return sink;
  };
  return {
    get isTTY() {
      return get().isTTY;
    },
    write: (chunk: string) => get().write(chunk),
  };
}

/**
 * A process stream whose reader may go away: after EPIPE, writes are dropped and `onClosed` runs once.
 * Other stream errors are thrown as before (they are real failures).
 */
export function pipeSafe(stream: NodeJS.WriteStream, onClosed: () => void): TextSink {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    onClosed();
  };
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    close();
  });
  return {
    isTTY: stream.isTTY === true,
    write(chunk: string) {
      if (closed) return false;
      const written = stream.write(chunk);
      // A pipe write fails synchronously (its 'error' event follows on a later tick, possibly only after
      // a long stretch of work): notice it now, so the command stops at its next check.
      if ((stream.errored as NodeJS.ErrnoException | null)?.code === 'EPIPE') close();
      return written;
    },
  };
}
