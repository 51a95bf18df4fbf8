/**
 * Cost of safety per query (issue 16, item 5), on the embedded store with `n` documents (the peer
 * workload's Zipfian text, hashing-384; v2 = hashing-384 with another seed holds half of them):
 *
 * - exact search: the store's `search(exact: true)` over the namespace (the reference);
 * - guard and trace: everything the library does around that search — alias routing, namespace and space
 *   lookups, the fingerprint check of a vector query (invariant 2), vector validation, provenance, the
 *   trace (reads, fingerprints served, mixed-version flag). Measured as `app.search` over a store whose
 *   `search` returns the same hits instantly, so the search itself is not in it; also with the traffic
 *   recorder and metrics registry attached (what `reembed monitor` and /metrics read);
 * - dual-read with fusion: a `fused` alias (primary v1, next v2 at 50% coverage, coverage-aware-score)
 *   against the `single` alias, both by text through the real library, the same query back to back;
 * - embed-on-read: the same fused read with embed-on-read on (the lazy default) against off.
 * Each figure is the median per query of a round; `rounds` rounds after a warm-up one (medians of rounds).
 *
 * Run: npx tsx bench/safety.ts [--n=100000 --queries=200 --rounds=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeFactories } from '../src/app/embedders.js';
import { openReembed } from '../src/app/open.js';
import { Reembed } from '../src/app/reembed.js';
import type { SearchHit } from '../src/core/records.js';
import { defineSpace } from '../src/core/space.js';
import { createLocalEmbedderFactory } from '../src/embedders/factory.js';
import { MetricsRegistry } from '../src/monitor/metrics-registry.js';
import { recordTraffic } from '../src/monitor/wiring.js';
import type { Backend } from '../src/ports/backend.js';
import type { SearchRequest, VectorStore } from '../src/ports/vector-store.js';
import { benchArgs, fmt, median, report } from './lib.js';
import { buildWorkload } from './workload.js';

const args = benchArgs({ n: 100_000, queries: 200, rounds: 5, k: 10 });
const n = Number(args.n);
const k = Number(args.k);
const rounds = Number(args.rounds);
const dir = mkdtempSync(join(tmpdir(), 'reembed-safety-'));
const app = await openReembed({ db: join(dir, 'safety.db'), actor: 'bench' });
const v1 = defineSpace('v1', { provider: 'hashing', model: 'fnv1a', dimension: 384, params: { seed: 1 } });
const v2 = defineSpace('v2', { provider: 'hashing', model: 'fnv1a', dimension: 384, params: { seed: 2 } });

/** The same app over a store whose `search` answers from `memo` at once: what is left is the library. */
function instantStore(store: VectorStore, memo: Map<Float32Array, SearchHit[]>): VectorStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'search')
        return async (_namespace: string, request: SearchRequest) => memo.get(request.vector) ?? [];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

try {
  await app.addSpace(v1);
  await app.addSpace(v2);
  const { namespace: oldNs } = await app.createCollection('docs', 'v1');
  const workload = buildWorkload(n);
  const half = Math.floor(n / 2);
  for (let i = 0; i < half; i += 5_000)
    await app.ingest('docs', workload.docs.slice(i, Math.min(half, i + 5_000)));
  // Documents ingested once v2 exists are dual-written: v2 holds the second half (50% coverage).
  const newNs = await app.createNamespace('docs', v2, 'building');
  for (let i = half; i < n; i += 5_000)
    await app.ingest('docs', workload.docs.slice(i, Math.min(n, i + 5_000)));
  const fusion = { method: 'coverage-aware-score', embedOnRead: true } as const;
  await app.backend.catalog.setAlias(
    'fused',
    'docs',
    { kind: 'fused', primary: oldNs.name, next: newNs.name, fusion },
    'bench',
  );
  await app.backend.catalog.setAlias(
    'fused-plain',
    'docs',
    { kind: 'fused', primary: oldNs.name, next: newNs.name, fusion: { ...fusion, embedOnRead: false } },
    'bench',
  );

  const texts = workload.docs
    .slice(0, Number(args.queries))
    .map((d) => d.text.split(' ').slice(0, 8).join(' '));
  const vectors = await (await app.embedders.get(v1)).embed(texts, { inputType: 'query' });
  const store = app.backend.store;
  const memo = new Map<Float32Array, SearchHit[]>();
  const guarded = new Reembed(
    { ...(app.backend as Backend), store: instantStore(store, memo) } as Backend,
    composeFactories(createLocalEmbedderFactory()),
    { actor: 'bench' },
  );
  const registry = new MetricsRegistry();
  const recorded = new Reembed(
    { ...(app.backend as Backend), store: instantStore(store, memo) } as Backend,
    composeFactories(createLocalEmbedderFactory()),
    { actor: 'bench' },
  );
  const recording = recordTraffic(recorded, { registry, flushIntervalMs: 1_000 });

  const exactRounds: number[] = [];
  const guardRounds: number[] = [];
  const recordedRounds: number[] = [];
  const shareRounds: number[] = [];
  const singleRounds: number[] = [];
  const fusedRounds: number[] = [];
  const addedRounds: number[] = [];
  const eorAddedRounds: number[] = [];
  const plainRounds: number[] = [];
  let fusedHits = 0;
  let embeddedPerQuery = 0;
  let embedded = 0;
  // The three reads go through an app that records nothing for migrations: an app opened with
  // openReembed lands embed-on-read writes in the new namespace (in the background, off the query path),
  // so after one round every hit would be migrated and the rounds would measure less and less work.
  const { migrations: _migrations, ...withoutMigrations } = app.backend as Backend;
  const reader = new Reembed(withoutMigrations as Backend, composeFactories(createLocalEmbedderFactory()), {
    actor: 'bench',
  });
  // Embed-on-read hands its next-space writes to observers: count the documents it embedded.
  reader.queries.observe({
    onUnmigratedHits: (event) => {
      embedded += event.writes.length;
    },
  });
  for (let round = 0; round <= rounds; round++) {
    const exact: number[] = [];
    const guard: number[] = [];
    const withRecorder: number[] = [];
    const single: number[] = [];
    const fused: number[] = [];
    const added: number[] = [];
    const plain: number[] = [];
    const eorAdded: number[] = [];
    let hits = 0;
    embedded = 0;
    for (let q = 0; q < vectors.length; q++) {
      const vector = vectors[q] as Float32Array;
      let t = performance.now();
      const found = await store.search(oldNs.name, { vector, fingerprint: v1.fingerprint, k, exact: true });
      exact.push(performance.now() - t);
      memo.set(vector, found);
      t = performance.now();
      await guarded.search('docs', { vector, space: 'v1', k, exact: true });
      guard.push(performance.now() - t);
      t = performance.now();
      await recorded.search('docs', { vector, space: 'v1', k, exact: true });
      withRecorder.push(performance.now() - t);

      const text = texts[q] as string;
      // The three reads of a query run back to back in a rotating order: whichever runs first meets the
      // query's pages and graph nodes cold, so a fixed order would charge that to one of them.
      const timed: Record<string, number> = {};
      for (let i = 0; i < 3; i++) {
        const alias = (['docs', 'fused', 'fused-plain'] as const)[(q + i) % 3] as string;
        const t0 = performance.now();
        const response = await reader.search(alias, { text, k });
        timed[alias] = performance.now() - t0;
        if (alias === 'fused') hits += response.hits.length;
      }
      const [s1, f1, p1] = [timed.docs as number, timed.fused as number, timed['fused-plain'] as number];
      single.push(s1);
      fused.push(f1);
      plain.push(p1);
      added.push(p1 - s1);
      eorAdded.push(f1 - p1);
    }
    if (round === 0) continue;
    exactRounds.push(median(exact));
    guardRounds.push(median(guard));
    recordedRounds.push(median(withRecorder));
    shareRounds.push((100 * median(guard)) / median(exact));
    singleRounds.push(median(single));
    fusedRounds.push(median(fused));
    plainRounds.push(median(plain));
    addedRounds.push(median(added));
    eorAddedRounds.push(median(eorAdded));
    fusedHits = hits / vectors.length;
    embeddedPerQuery = embedded / vectors.length;
    console.error(
      `round ${round}: exact ${fmt(median(exact), 2)} ms, guard+trace ${fmt(median(guard), 3)} ms ` +
        `(${fmt((100 * median(guard)) / median(exact), 2)}%), single ${fmt(median(single), 2)} ms, ` +
        `fused ${fmt(median(plain), 2)} ms, +embed-on-read ${fmt(median(fused), 2)} ms`,
    );
  }
  await recording?.stop();
  const described = await app.backend.store.describeIndex?.(oldNs.name);
  report('safety', {
    config: {
      n,
      queries: vectors.length,
      k,
      rounds,
      spaces: 'v1 hashing-384 seed 1 (all documents), v2 hashing-384 seed 2 (50%)',
      readMode: described?.mode ?? 'exact',
    },
    exact: { roundsP50: exactRounds, p50Ms: median(exactRounds) },
    guard: {
      roundsMs: guardRounds,
      medianMs: median(guardRounds),
      roundsShare: shareRounds,
      sharePercent: median(shareRounds),
      withTrafficRecorderMs: median(recordedRounds),
      roundsWithTrafficRecorderMs: recordedRounds,
    },
    fused: {
      singleP50Ms: median(singleRounds),
      fusedP50Ms: median(plainRounds),
      roundsAddedMs: addedRounds,
      addedMs: median(addedRounds),
      hits: fusedHits,
      note: 'single = `single` alias by text (one embed, one read; ANN above the threshold); fused = two embeds, two reads, heads lookup, fuseResults',
    },
    embedOnRead: {
      fusedWithP50Ms: median(fusedRounds),
      roundsAddedMs: eorAddedRounds,
      addedMs: median(eorAddedRounds),
      docsPerQuery: embeddedPerQuery,
      note: 'the same fused read with embed-on-read on vs off; hashing embedder (a remote model adds one provider call per query with <= 10 documents)',
    },
  });
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
