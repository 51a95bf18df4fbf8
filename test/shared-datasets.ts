import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The shared datasets folder: `$REEMBED_SHARED_DIR` when set, else `../shared` beside the repository
 * root (resolved from this file, never from the machine's absolute layout).
 */
export function sharedDir(): string {
  return resolve(process.env.REEMBED_SHARED_DIR ?? join(import.meta.dirname, '..', '..', 'shared'));
}

/** `<shared>/datasets/<name>` when it holds `file`, else null (after printing one line saying what is skipped). */
export function sharedDataset(name: string, file: string, what: string): string | null {
  const dir = join(sharedDir(), 'datasets', name);
  if (existsSync(join(dir, file))) return dir;
  console.warn(
    `skipping ${what}: ${join(dir, file)} is absent (set REEMBED_SHARED_DIR to the shared folder)`,
  );
  return null;
}
