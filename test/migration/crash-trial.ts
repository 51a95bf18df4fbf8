import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationService } from '../../src/app/migrate.js';
import { type OpenOptions, openReembed } from '../../src/app/open.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');

/**
 * Runs crash-child.ts with `args` until it prints `ready`, then SIGKILLs it after `killAfterMs` (never,
 * when null: the child may kill itself, see its usage). `killed` is whether it died of SIGKILL.
 */
export function crashTrial(
  args: readonly string[],
  killAfterMs: number | null,
): Promise<{ killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
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
