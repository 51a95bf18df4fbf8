/**
 * `reembed` CLI for bench/pg-workers.ts: hashing embedders with `REEMBED_BENCH_DELAY_MS` of latency per
 * embedding call (a remote provider's round trip, no CPU), so worker processes scale on latency.
 */
import { openReembed } from '../src/app/open.js';
import { main } from '../src/cli/main.js';
import { latencyHashingFactory } from './pg-common.js';

const delayMs = Number(process.env.REEMBED_BENCH_DELAY_MS ?? '50');
process.exitCode = await main(process.argv.slice(2), undefined, {
  open: (options) => openReembed({ ...options, embedders: [latencyHashingFactory(delayMs)] }),
});
