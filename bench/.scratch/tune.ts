import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { defineSpace } from '../../src/core/space.js';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { realVectorSource } from '../real-vectors.js';

const n = Number(process.argv[2] ?? 100000),
  d = 384;
const path = `/tmp/ann-proto/s${n}.db`;
const space = defineSpace('lsa-384', { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = 'bench@lsa-384';
const source = realVectorSource({ dimension: d });
const qs = Array.from({ length: source.queryCount }, (_, i) => source.queries.slice(i * d, (i + 1) * d));
const truthPath = `/tmp/ann-proto/truth${n}.json`;
let kth: number[];
if (existsSync(truthPath)) kth = JSON.parse(readFileSync(truthPath, 'utf8'));
else {
  const b = await openSqliteBackend({ path, ann: { threshold: Infinity, exactCacheBytes: Infinity } });
  kth = [];
  for (const q of qs) {
    const h = await b.store.search(ns, { vector: q, fingerprint: space.fingerprint, k: 10, exact: true });
    kth.push(h[9]!.score);
  }
  await b.close();
  writeFileSync(truthPath, JSON.stringify(kth));
}
const configs = JSON.parse(process.argv[3] ?? '[{}]');
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (const c of configs) {
  const b = await openSqliteBackend({ path, ann: { threshold: 0, ...c } });
  let t = performance.now();
  await b.store.buildIndex(ns);
  const load = (performance.now() - t) / 1000;
  const ms: number[] = [];
  let found = 0;
  const c0 = cpu();
  for (let r = 0; r < 3; r++)
    for (let i = 0; i < qs.length; i++) {
      t = performance.now();
      const h = await b.store.search(ns, { vector: qs[i]!, fingerprint: space.fingerprint, k: 10 });
      ms.push(performance.now() - t);
      if (r === 0) found += h.filter((x) => x.score >= kth[i]! - 1e-5).length;
    }
  ms.sort((a, z) => a - z);
  console.log(
    JSON.stringify(c),
    'load',
    load.toFixed(1),
    's recall',
    (found / qs.length / 10).toFixed(4),
    'p50',
    ms[ms.length >> 1]!.toFixed(3),
    'p99',
    ms[Math.floor(ms.length * 0.99)]!.toFixed(3),
    'cpu/q',
    ((cpu() - c0) / ms.length).toFixed(3),
  );
  await b.close();
}
