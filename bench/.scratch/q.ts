import { defineSpace } from '../../src/core/space.js';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { realVectorSource } from '../real-vectors.js';

const n = Number(process.argv[2] ?? 100000),
  d = 384;
const path = `/tmp/ann-proto/s${n}.db`;
const space = defineSpace('lsa-384', { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = 'bench@lsa-384';
const source = realVectorSource({ dimension: d });
const opts = JSON.parse(process.argv[3] ?? '{}');
const b = await openSqliteBackend({ path, ann: { threshold: 0, ...opts } });
let t = performance.now();
await b.store.buildIndex(ns);
console.log(
  'build/load s',
  ((performance.now() - t) / 1000).toFixed(1),
  JSON.stringify((await b.store.describeIndex(ns)).index),
);
const qs = Array.from({ length: source.queryCount }, (_, i) => source.queries.slice(i * d, (i + 1) * d));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (const exact of [false, true]) {
  for (let r = 0; r < 3; r++) {
    const c = cpu();
    t = performance.now();
    for (const q of qs) await b.store.search(ns, { vector: q, fingerprint: space.fingerprint, k: 10, exact });
    console.log(
      exact ? 'exact' : 'ann',
      'wall ms/q',
      ((performance.now() - t) / qs.length).toFixed(3),
      'cpu ms/q',
      ((cpu() - c) / qs.length).toFixed(3),
    );
  }
}
await b.close();
