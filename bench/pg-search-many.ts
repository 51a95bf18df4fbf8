/**
 * A cutover's gate searches on PostgreSQL: `queries` exact top-k searches of one pgvector namespace, as the
 * probe or golden evaluation asks for them (one `searchMany` call), against the same searches one by one
 * (`search` per query: one sequential scan of the table each). The namespace: `n` documents of the peer
 * workload, hashing 384-d; the queries: the first 8 words of documents spread over the corpus. Rounds
 * alternate the two ways; medians. Every round checks that both give the same hits, scores and order.
 *
 * Run: REEMBED_PG_URL=… npx tsx bench/pg-search-many.ts [--n=100000 --queries=300 --k=10 --rounds=3]
 */
import { createHashingEmbedder, hashingSpace } from '../src/embedders/hashing.js';
import type { SearchRequest } from '../src/ports/vector-store.js';
import { benchArgs, fmt, median, report } from './lib.js';
import { benchSchema, dropBenchSchema, openBenchApp, pgVersion } from './pg-common.js';
import { workloadChunks } from './workload.js';

const args = benchArgs({ n: 100_000, queries: 300, k: 10, rounds: 3, batch: 5_000 });
const n = Number(args.n);
const { app, backend } = await openBenchApp({ schema: benchSchema('many'), hnsw: { deferred: true } });
try {
  const space = hashingSpace('v1', { dimension: 384, seed: 1 });
  await app.addSpace(space);
  await app.createCollection('docs', 'v1');
  const texts: string[] = [];
  const every = Math.max(1, Math.floor(n / Number(args.queries)));
  let seen = 0;
  const loadStart = performance.now();
  for (const chunk of workloadChunks(n, Number(args.batch))) {
    for (let i = 0; i < chunk.length; i++)
      if ((seen + i) % every === 0 && texts.length < Number(args.queries))
        texts.push((chunk[i]?.text ?? '').split(' ').slice(0, 8).join(' '));
    await app.ingest('docs', chunk);
    seen += chunk.length;
  }
  console.error(`loaded ${n} documents in ${fmt((performance.now() - loadStart) / 1000, 1)} s`);
  const namespace = 'docs@v1';
  const vectors = await createHashingEmbedder(space).embed(texts, { inputType: 'query' });
  const requests: SearchRequest[] = vectors.map((vector) => ({
    vector,
    fingerprint: space.fingerprint,
    k: Number(args.k),
    exact: true,
  }));
  const store = backend.store;
  const oneByOne: number[] = [];
  const batched: number[] = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    let t = performance.now();
    const each = [];
    for (const request of requests) each.push(await store.search(namespace, request));
    oneByOne.push(performance.now() - t);
    t = performance.now();
    const many = await store.searchMany(namespace, requests);
    batched.push(performance.now() - t);
    if (JSON.stringify(many) !== JSON.stringify(each))
      throw new Error(`round ${round + 1}: searchMany answered differently from search one by one`);
    console.error(
      `round ${round + 1}: one by one ${fmt(oneByOne.at(-1) ?? 0, 0)} ms, searchMany ${fmt(batched.at(-1) ?? 0, 0)} ms`,
    );
  }
  report('pg-search-many', {
    database: await pgVersion(backend),
    config: { n, queries: requests.length, k: Number(args.k), dimension: 384, rounds: Number(args.rounds) },
    oneByOne: { medianMs: Number(fmt(median(oneByOne), 0)), runsMs: oneByOne.map((m) => Math.round(m)) },
    searchMany: { medianMs: Number(fmt(median(batched), 0)), runsMs: batched.map((m) => Math.round(m)) },
    speedup: Number(fmt(median(oneByOne) / median(batched), 2)),
    identical: true,
  });
} finally {
  await dropBenchSchema(backend);
  await backend.close();
}
