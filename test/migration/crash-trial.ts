import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { type OpenOptions, openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { assertNamespaceMatchesSource, corpus, stepUntil } from './helpers.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');

/**
 * Runs `script` (default crash-child.ts) with `args` until it prints `ready`, then SIGKILLs it after
 * `killAfterMs` (never, when null: the child may kill itself, see its usage). `killed` is whether it died of
 * SIGKILL.
 */
export function crashTrial(
  args: readonly string[],
  killAfterMs: number | null,
  script: string = CHILD,
): Promise<{ killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (killAfterMs !== null && timer === undefined && output.includes('ready'))
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killed: true, output });
      else if (code === 0) resolve({ killed: false, output });
      else reject(new Error(`child exited with ${code}: ${output}`));
    });
  });
}

/** Whether the migration of `docs` has committed a backfill checkpoint (opened and closed here). */
export async function hasCheckpoint(options: OpenOptions): Promise<boolean> {
  const app = await openReembed({ actor: 'test', ...options });
  const service = new MigrationService(app);
  try {
    const migration = await service.current('docs');
    return migration !== null && (await service.status(migration.id)).checkpoint !== null;
  } finally {
    await service.close();
    await app.close();
  }
}

/**
 * Resumes the killed migration `id` to `docs@v2` and checks it: one resumed pass must cover every document
 * the child's mutations never touch (ids from 600 of `corpus(docs)`) — a checkpoint ahead of an unfinished
 * batch would leave some missing — and once validating, the namespace equals its source.
 */
export async function resumeAndCheck(
  app: Reembed,
  service: MigrationService,
  id: string,
  docs: number,
): Promise<void> {
  await service.step(id);
  const untouched = corpus(docs)
    .slice(600)
    .map((d) => d.id);
  const heads = await app.backend.store.heads('docs@v2', untouched);
  expect(untouched.filter((d) => !heads.has(d))).toEqual([]);
  await stepUntil(service, id, ['validating'], 6);
  expect(await assertNamespaceMatchesSource(app, 'docs@v2')).toEqual([]);
}
