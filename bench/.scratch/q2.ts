import { defineSpace } from '../../src/core/space.js';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { realVectorSource } from '../real-vectors.js';

const n = 100000,
  d = 384;
const space = defineSpace('lsa-384', { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = 'bench@lsa-384';
const source = realVectorSource({ dimension: d });
const b = await openSqliteBackend({ path: `/tmp/ann-proto/s${n}.db`, ann: { threshold: 0 } });
await b.store.buildIndex(ns);
const qs = Array.from({ length: source.queryCount }, (_, i) => source.queries.slice(i * d, (i + 1) * d));
const { Session } = await import('node:inspector/promises');
const s = new Session();
s.connect();
await s.post('Profiler.enable');
await s.post('Profiler.start');
const t = performance.now();
for (let r = 0; r < 6; r++)
  for (const q of qs) await b.store.search(ns, { vector: q, fingerprint: space.fingerprint, k: 10 });
console.log('ms/q', (performance.now() - t) / (6 * qs.length));
const { profile } = await s.post('Profiler.stop');
(await import('node:fs')).writeFileSync('/tmp/ann-proto/q2.cpuprofile', JSON.stringify(profile));
await b.close();
