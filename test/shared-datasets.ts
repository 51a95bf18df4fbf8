import { sharedData } from '../src/testing/shared.js';

export { sharedDir } from '../src/testing/shared.js';

/**
 * `<shared>/datasets/<name>` when it holds `file`, else null (after printing one line saying what is
 * skipped). The folder is resolved by `sharedDir()` (src/testing/shared.ts): `$REEMBED_SHARED_DIR`, else
 * `../shared` beside the repository.
 */
export function sharedDataset(name: string, file: string, what: string): string | null {
  const data = sharedData(`datasets/${name}`, file, what);
  return data.present ? data.path : null;
}
