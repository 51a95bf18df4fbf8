/**
 * reembed's side of the LangChain `index()` comparison: the peer's phases (full, noop, incremental,
 * model_upgrade) on the peer's exact corpus, through the public library API, each timed by wall clock and
 * verified afterwards (untimed) in the peer's spirit. Runs in its own process (see peer-langchain.ts) so
 * its peak RSS is isolated; prints one JSON line per phase.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MigrationService } from '../src/app/migrate.js';
import { openReembed } from '../src/app/open.js';
import type { Reembed } from '../src/app/reembed.js';
import { type EmbedCounter, peerEmbedderFactory, peerSpace } from './peer-embedder.js';
import { RssSampler } from './peer-rss.js';
import { type Probe, pick, verify } from './peer-verify.js';
import { buildWorkload, type WorkloadDoc } from './workload.js';

export type ReembedSetup = 'sqlite' | 'lancedb';

export interface ReembedPhaseOptions {
  readonly setup: ReembedSetup;
  readonly n: number;
  readonly latencyMs: number;
  /** Backfill concurrency of the model upgrade; undefined = the library default. */
  readonly concurrency?: number;
  /** Backfill batch size of the model upgrade (diagnostics); undefined = the library default. */
  readonly backfillBatch?: number;
  /** Documents per `ingest` call: a multiple of 128 so embed calls are full batches, like the peer's. */
  readonly ingestChunk: number;
  readonly queries: number;
  readonly seed: number;
  readonly emit: (line: Record<string, unknown>) => void;
}

const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/**
 * Times the store's `write` and `delete` calls (summed wall time: a concurrent backfill's overlapping
 * calls add up), the counterpart of the peer's `store_add` / `store_delete` breakdown.
 */
function instrumentStore(app: Reembed) {
  const store = app.backend.store as unknown as Record<
    'write' | 'delete',
    (...a: unknown[]) => Promise<unknown>
  >;
  const ms = { write: 0, delete: 0 };
  const calls = { write: 0, delete: 0 };
  for (const m of ['write', 'delete'] as const) {
    const orig = store[m].bind(store);
    store[m] = async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await orig(...a);
      } finally {
        ms[m] += performance.now() - t;
        calls[m]++;
      }
    };
  }
  return {
    reset() {
      ms.write = ms.delete = calls.write = calls.delete = 0;
    },
    snapshot() {
      return {
        store_write: Number(ms.write.toFixed(1)),
        store_write_calls: calls.write,
        store_delete: Number(ms.delete.toFixed(1)),
      };
    },
  };
}

/** Runs the four phases once on a fresh database and emits one line per phase. */
export async function runReembedPhases(o: ReembedPhaseOptions): Promise<void> {
  const W = buildWorkload(o.n, o.seed);
  const changeMap = new Map(W.changes.map((c) => [c.id, c.text]));
  const delSet = new Set(W.deletes);
  const docs1 = W.docs;
  const docs2: WorkloadDoc[] = docs1
    .filter((d) => !delSet.has(d.id))
    .map((d) => (changeMap.has(d.id) ? { ...d, text: changeMap.get(d.id) as string } : d));
  const oldText = new Map(docs1.map((d) => [d.id, d.text]));
  const sample1 = pick(docs1, o.queries, o.seed + 3);
  const sampleChanged = pick(W.changes, o.queries, o.seed + 4);
  const absent2: Probe[] = [
    ...pick(W.changes, o.queries, o.seed + 5).map((c) => ({
      id: c.id,
      text: oldText.get(c.id) as string,
      kind: 'old_version',
    })),
    ...pick(W.deletes, o.queries, o.seed + 6).map((id) => ({
      id,
      text: oldText.get(id) as string,
      kind: 'deleted_doc',
    })),
  ];

  const dir = mkdtempSync(join(tmpdir(), 'reembed-peer-'));
  const counter: EmbedCounter = { calls: 0, texts: 0, ms: 0 };
  const app = await openReembed({
    db: join(dir, 'reembed.db'),
    ...(o.setup === 'lancedb' ? { lancedb: join(dir, 'lancedb') } : {}),
    actor: 'bench',
    embedders: [peerEmbedderFactory(o.latencyMs, counter)],
  });
  const io = instrumentStore(app);
  const rss = new RssSampler();
  const v1 = peerSpace('peer-v1', 384, 1);
  const v2 = peerSpace('peer-v2', 768, 2);
  await app.addSpace(v1);
  await app.createCollection('docs', v1.name);
  const migrations = new MigrationService(app);

  const ingestAll = async (docs: readonly WorkloadDoc[]) => {
    let changed = 0;
    let unchanged = 0;
    for (let i = 0; i < docs.length; i += o.ingestChunk) {
      const r = await app.ingest('docs', docs.slice(i, i + o.ingestChunk));
      changed += r.changed;
      unchanged += r.unchanged;
    }
    return { changed, unchanged };
  };

  const phase = async (
    name: string,
    docs: number,
    work: () => Promise<{ result: Record<string, unknown>; ok: boolean; extra?: Record<string, unknown> }>,
    check: () => Promise<Record<string, unknown>>,
  ) => {
    gc();
    await new Promise((r) => setTimeout(r, 200));
    gc();
    const calls0 = counter.calls;
    const texts0 = counter.texts;
    const embedMs0 = counter.ms;
    io.reset();
    rss.reset();
    const t0 = performance.now();
    const { result, ok, extra } = await work();
    const ms = performance.now() - t0;
    const peak = rss.peakMb();
    const breakdown = {
      embed: Number((counter.ms - embedMs0).toFixed(1)),
      ...io.snapshot(),
      ...(extra?.breakdown_ms as Record<string, number> | undefined),
    };
    o.emit({
      phase: name,
      docs,
      ms: Number(ms.toFixed(1)),
      docs_per_s: Number(((docs * 1000) / ms).toFixed(1)),
      peak_rss_mb: peak,
      embed_calls: counter.calls - calls0,
      embedded_texts: counter.texts - texts0,
      setup: o.setup,
      store: app.backend.store.name,
      embed_latency_ms: o.latencyMs,
      result,
      result_ok: ok,
      ...extra,
      breakdown_ms: breakdown,
      verify: await check(),
      n: o.n,
      corpus_sha256: W.sha256.slice(0, 16),
    });
  };

  const n1 = docs1.length;
  const n2 = docs2.length;
  await phase(
    'full',
    n1,
    async () => {
      const r = await ingestAll(docs1);
      return { result: r, ok: r.changed === n1 };
    },
    () => verify(app, n1, sample1, []),
  );
  await phase(
    'noop',
    n1,
    async () => {
      const r = await ingestAll(docs1);
      return { result: r, ok: r.unchanged === n1 && r.changed === 0 };
    },
    () => verify(app, n1, sample1, []),
  );
  await phase(
    'incremental',
    n2,
    async () => {
      // The whole new corpus (like the peer's index() call), then the deletes: a tombstone per id.
      const r = await ingestAll(docs2);
      const d = await app.delete('docs', W.deletes);
      const result = { ...r, deleted: d.deleted };
      return { result, ok: r.changed === W.changes.length && d.deleted === W.deletes.length };
    },
    () => verify(app, n2, sampleChanged, absent2),
  );
  await app.addSpace(v2);
  await phase(
    'model_upgrade',
    n2,
    async () => {
      const backfill = {
        ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
        ...(o.backfillBatch === undefined ? {} : { batchSize: o.backfillBatch }),
      };
      const t0 = performance.now();
      const started = await migrations.start({
        alias: 'docs',
        to: v2.name,
        strategy: 'blue-green',
        options: { backfill },
      });
      const t1 = performance.now();
      let report = started;
      let written = 0;
      // Per state: `backfilling` steps (backfill + coverage check) and `validating` steps (the gates).
      const stepMs: Record<string, number> = {};
      for (let i = 0; i < 6 && report.migration.state !== 'validating'; i++) {
        const state = report.migration.state;
        const ts = performance.now();
        report = await migrations.step(started.migration.id);
        stepMs[state] = (stepMs[state] ?? 0) + performance.now() - ts;
        for (const s of report.steps) {
          const r = (s.data as { report?: { written?: number } } | undefined)?.report;
          if (s.name === 'backfill' && r?.written !== undefined) written += r.written;
        }
      }
      const t2 = performance.now();
      const cut = await migrations.cutover(started.migration.id);
      const t3 = performance.now();
      return {
        result: {
          written,
          state: cut.migration.state,
          concurrency: started.migration.options.backfill.concurrency,
        },
        ok: written === n2 && cut.ok && cut.migration.state !== 'backfilling',
        extra: {
          breakdown_ms: {
            start: Number((t1 - t0).toFixed(1)),
            backfill_and_validate: Number((t2 - t1).toFixed(1)),
            ...Object.fromEntries(
              Object.entries(stepMs).map(([state, ms]) => [`step_${state}`, Number(ms.toFixed(1))]),
            ),
            gates_and_cutover: Number((t3 - t2).toFixed(1)),
          },
        },
      };
    },
    () => verify(app, n2, sampleChanged, absent2),
  );
  await migrations.close();
  await app.close();
  await rss.stop();
  rmSync(dir, { recursive: true, force: true });
}
