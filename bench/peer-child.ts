import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export interface ChildRun {
  /** Every stdout line that parsed as a JSON object. */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
  readonly code: number | null;
  readonly ms: number;
}

/**
 * Runs one benchmark process to completion and collects its JSON-lines output (the peer's `bench.mjs`
 * and our own child both print one JSON object per phase on stdout). stderr is kept, and also appended
 * to `logFile`, so a failure can be read after the fact.
 */
export function runJsonLines(
  command: string,
  args: readonly string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): Promise<ChildRun> {
  const started = performance.now();
  appendFileSync(options.logFile, `\n$ (cd ${options.cwd} && ${command} ${args.join(' ')})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      appendFileSync(options.logFile, s);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines: Record<string, unknown>[] = [];
      for (const raw of out.split('\n')) {
        const line = raw.trim();
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a result line (e.g. a log line starting with a brace)
        }
      }
      resolve({ lines, stderr: err, code, ms: performance.now() - started });
    });
  });
}
