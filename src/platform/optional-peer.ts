import { ReembedError } from '../core/errors.js';

/**
 * The backends that only some users need are optional peer dependencies of reembed (package.json
 * `peerDependenciesMeta`): a SQLite-only install never downloads them. Each is imported here, on first
 * use, and a missing one is a `DEPENDENCY_MISSING` error naming the exact `npm install` to run.
 * `version` is the one reembed is tested with (its exact devDependency); package.json admits `^version`
 * as the peer range. test/repo/package-shape.test.ts keeps the three in step.
 */
export const OPTIONAL_PEERS = Object.freeze({
  pg: { version: '8.23.1', feature: 'The PostgreSQL backend (--pg, openPgBackend)', with: [] },
  'graphile-worker': {
    version: '0.17.3',
    feature: 'The distributed backfill (reembed worker)',
    with: ['pg'],
  },
  '@lancedb/lancedb': {
    version: '0.37.1',
    feature: 'The LanceDB vector store (--lancedb, openLanceDbStore)',
    with: ['apache-arrow'],
  },
  'apache-arrow': {
    version: '18.1.0',
    feature: 'The LanceDB vector store (--lancedb, openLanceDbStore)',
    with: ['@lancedb/lancedb'],
  },
} as const satisfies Record<string, { version: string; feature: string; with: readonly string[] }>);

export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

/** The `npm install` command that adds `name` (and the peers it is used with) at the tested versions. */
export function peerInstallCommand(name: OptionalPeer): string {
  const names: OptionalPeer[] = [name, ...(OPTIONAL_PEERS[name].with as readonly OptionalPeer[])];
  return `npm install --save-exact ${names.map((n) => `${n}@${OPTIONAL_PEERS[n].version}`).join(' ')}`;
}

/** True when `error` says that the package `name` itself could not be found (not one of its files). */
export function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = error instanceof Error ? error.message : String(error);
  return message.includes(`'${name}'`) || message.includes(`"${name}"`);
}

/**
 * Runs `load` (a dynamic `import()` of the peer `name`); when the package is not installed, throws
 * `DEPENDENCY_MISSING` with the install command. Other load failures (a broken native binary) pass
 * through unchanged.
 *
 * @example
 * const pg = await importPeer('pg', () => import('pg'));
 */
export async function importPeer<T>(name: OptionalPeer, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, name)) throw error;
    const install = peerInstallCommand(name);
    throw new ReembedError(
      'DEPENDENCY_MISSING',
      `${OPTIONAL_PEERS[name].feature} needs the optional package ${name}, which is not installed. Install it: ${install}`,
      { cause: error, details: { package: name, version: OPTIONAL_PEERS[name].version, install } },
    );
  }
}
