/**
 * Child process of ann-crash.test.ts: keeps changing a namespace searched through its HNSW index (new and
 * replaced records, deletes) and saving the index after every change, until the parent SIGKILLs it — at a
 * random moment, or (with a crash point) from inside the save itself:
 * - `before-rename`: the new index file is written and fsynced under its temporary name;
 * - `after-rename`: the file is in place but its row is not committed;
 * - `after-commit`: the row names the new file, the old file is not deleted yet.
 * Usage: node --import tsx ann-crash-child.ts <db> <seed> [crash point]
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { annNamespace, annSpace, vectorOf } from './helpers.js';

const [db, seedArg, crashAt] = process.argv.slice(2);
let seed = Number(seedArg) || 1;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

let armed = false;
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};
if (crashAt) {
  const rename = fs.renameSync;
  const unlink = fs.unlinkSync;
  fs.renameSync = (from, to) => {
    if (armed && crashAt === 'before-rename') die();
    rename(from, to);
    if (armed && crashAt === 'after-rename') die();
  };
  fs.unlinkSync = (path) => {
    if (armed && crashAt === 'after-commit' && String(path).endsWith('.usearch')) die();
    unlink(path);
  };
  syncBuiltinESMExports();
}

const backend = await openSqliteBackend({ path: db as string, ann: { threshold: 0 } });
const ns = annNamespace.name;
await backend.store.buildIndex(ns);
process.stdout.write('ready\n');
let version = 1_000 + Math.floor(rand() * 1_000) * 1_000;
for (let round = 0; ; round++) {
  const writes = Array.from({ length: 20 }, () => {
    const id = `d${Math.floor(rand() * 1_500)}`;
    version++;
    return {
      sourceId: id,
      sourceVersion: version,
      contentHash: `h${version}`,
      tenant: null,
      metadata: {},
      chunks: [{ chunkId: `${id}#0`, index: 0, text: id, vector: vectorOf(Math.floor(rand() * 1e9)) }],
    };
  });
  await backend.store.write(ns, annSpace.fingerprint, writes);
  const deletes = Array.from({ length: 5 }, () => ({
    sourceId: `d${Math.floor(rand() * 1_500)}`,
    sourceVersion: ++version,
  }));
  await backend.store.delete(ns, deletes);
  await backend.store.search(ns, { vector: vectorOf(round), fingerprint: annSpace.fingerprint, k: 10 });
  // Every round saves: the second one onwards may be the save a crash point fires in.
  armed = round >= 1;
  await backend.store.buildIndex(ns);
}
