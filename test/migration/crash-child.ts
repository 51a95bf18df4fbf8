/**
 * Child process of crash.test.ts: resumes (or starts) a shadow migration of `docs` to `v2` and steps it
 * while mutating sources (updates, inserts, deletes). The parent SIGKILLs it at a random moment.
 * Usage: node --import tsx crash-child.ts <db> <seed> [<lancedb dir> [<kill after N store writes>]]
 * With a LanceDB directory the vectors go there (catalog and checkpoints stay in the SQLite file); with
 * N, the child SIGKILLs itself right after its Nth store write returned — committed in LanceDB, its
 * checkpoint not yet saved in the catalog — the window a separate vector store adds.
 */
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import { slowHashingFactory } from './embedders.js';

const [db, seedArg, lancedb, killAfterArg] = process.argv.slice(2);
let seed = Number(seedArg) || 1;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

const app = await openReembed({
  db: db as string,
  actor: 'crash-child',
  embedders: [slowHashingFactory(25, true)],
  ...(lancedb ? { lancedb } : {}),
});
const killAfter = Number(killAfterArg) || 0;
if (killAfter > 0) {
  const store = app.backend.store;
  const write = store.write.bind(store);
  let writes = 0;
  store.write = async (...args) => {
    const result = await write(...args);
    if (++writes === killAfter) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
const service = new MigrationService(app);
let migration = await service.current('docs');
if (!migration || migration.state === 'rolled-back') {
  process.stdout.write('starting\n');
  migration = (
    await service.start({
      alias: 'docs',
      to: 'v2',
      strategy: 'shadow',
      options: { backfill: { batchSize: 8, concurrency: 3 } },
    })
  ).migration;
}
process.stdout.write('ready\n');

let stop = false;
const mutate = async (): Promise<void> => {
  let n = 0;
  while (!stop) {
    const id = `doc-${String(Math.floor(rand() * 600)).padStart(5, '0')}`;
    const roll = rand();
    if (roll < 0.2) await app.delete('docs', [id]);
    else if (roll < 0.9) await app.ingest('docs', [{ id, text: `updated ${seed} ${n++} migration shadow` }]);
    else await app.ingest('docs', [{ id: `new-${seed}-${n++}`, text: 'inserted while migrating' }]);
    await new Promise((r) => setTimeout(r, 2));
  }
};
const mutations = mutate();
for (let i = 0; i < 20; i++) {
  const m = await service.get(migration.id);
  if (m.state !== 'backfilling' && m.state !== 'planned') break;
  await service.step(migration.id);
}
stop = true;
await mutations;
process.stdout.write('finished\n');
await service.close();
await app.close();
