/**
 * The `reembed` CLI as a child process, with hashing embedders that take `REEMBED_TEST_DELAY_MS` per call
 * (a remote provider's latency), so a test can kill a worker in the middle of a range.
 * Spawned by test/queue/helpers.ts `spawnWorker`.
 */
import { openReembed } from '../../src/app/open.js';
import { main } from '../../src/cli/main.js';
import { slowHashingFactory } from '../migration/embedders.js';

const delayMs = Number(process.env.REEMBED_TEST_DELAY_MS ?? '0');
process.exitCode = await main(process.argv.slice(2), undefined, {
  open: (options) => openReembed({ ...options, embedders: delayMs > 0 ? [slowHashingFactory(delayMs)] : [] }),
});
