import { existsSync } from 'node:fs';
import { defineSpace } from '../../src/core/space.js';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { realVectorSource } from '../real-vectors.js';

const n = Number(process.argv[2] ?? 100000),
  d = 384;
const path = `/tmp/ann-proto/s${n}.db`;
const space = defineSpace('lsa-384', { provider: 'bench', model: 'lsa-real', dimension: d });
const ns = 'bench@lsa-384';
if (!existsSync(path)) {
  const source = realVectorSource({ dimension: d });
  const b = await openSqliteBackend({ path, ann: { threshold: Infinity } });
  await b.store.createNamespace({
    name: ns,
    fingerprint: space.fingerprint,
    spaceName: space.name,
    dimension: d,
    metric: 'cosine',
  });
  const v = new Float32Array(10000 * d);
  for (let s = 0; s < n; s += 10000) {
    const texts: string[] = [];
    source.fill(v, s, 10000, texts);
    await b.store.write(
      ns,
      space.fingerprint,
      texts.map((t, i) => ({
        sourceId: `p${s + i}`,
        sourceVersion: 1,
        contentHash: 'h',
        tenant: `t${(s + i) % 100}`,
        metadata: { h: (s + i) % 2, b: (s + i) % 10 },
        chunks: [{ chunkId: `p${s + i}#0`, index: 0, text: t, vector: v.slice(i * d, (i + 1) * d) }],
      })),
    );
  }
  await b.close();
  console.log('built db');
}
