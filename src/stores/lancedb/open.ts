import { ReembedError } from '../../core/errors.js';
import { importPeer } from '../../platform/optional-peer.js';
import { type LanceDbStoreOptions, resolveLanceDbConfig } from './config.js';
import { DescriptorTable } from './descriptors.js';
import type { ArrowModule, LanceConnectionLike, LanceModuleLike } from './lance-types.js';
import { LanceDbVectorStore } from './store.js';

/**
 * Opens (creating if needed) a LanceDB vector store at `uri`: a local directory, or object storage
 * with `storageOptions`. `@lancedb/lancedb` and `apache-arrow` are imported here, on first use, so
 * importing reembed never loads the native module (STYLE.md #2).
 *
 * @example
 * const store = await openLanceDbStore({ uri: './data/lance' });
 * const s3 = await openLanceDbStore({ uri: 's3://bucket/reembed', storageOptions: { region: 'eu-west-1' } });
 */
export async function openLanceDbStore(options: LanceDbStoreOptions): Promise<LanceDbVectorStore> {
  const config = resolveLanceDbConfig(options);
  const lancedb: LanceModuleLike = await importPeer('@lancedb/lancedb', () => import('@lancedb/lancedb'));
  const arrow: ArrowModule = await importPeer('apache-arrow', () => import('apache-arrow'));
  let connection: LanceConnectionLike | undefined;
  try {
    connection = await lancedb.connect(config.uri, {
      readConsistencyInterval: config.readConsistencySeconds,
      storageOptions: { ...config.storageOptions },
    });
    const descriptors = await DescriptorTable.open(connection, arrow);
    return new LanceDbVectorStore({ config, lancedb, arrow, connection, descriptors });
  } catch (error) {
    connection?.close();
    throw new ReembedError(
      'STORE_FAILED',
      `Could not open the LanceDB store at ${config.uri}: ${error instanceof Error ? error.message : String(error)}. Check that the path or bucket exists and is writable, and the storage options (credentials, region).`,
      { cause: error, details: { uri: config.uri } },
    );
  }
}
