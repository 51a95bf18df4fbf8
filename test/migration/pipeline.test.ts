import { afterEach, describe, expect, it } from 'vitest';
import { ReembedError } from '../../src/core/errors.js';
import { createHashingEmbedder } from '../../src/embedders/hashing.js';
import type { Embedder } from '../../src/ports/embedder.js';
import type { JobRepository } from '../../src/ports/jobs.js';
import { faultyEmbedder } from './embedders.js';
import { assertNamespaceMatchesSource } from './helpers.js';
import { PIPELINE_DRIVERS, type PipelineHarness } from './pipeline-drivers.js';

/**
 * One set of tests for the backfill pipeline (plan batches → embed → validate → commit with checkpoint
 * and dead letters), run through each of its feeds: the single-process runner's cursor and a distributed
 * plan's range. Crashes are simulated by a repository that throws at one step of a commit: every step is
 * its own transaction, so what an exception there leaves behind is what a SIGKILL there would.
 */
const N = 60;
const POISON_ID = 'doc-00015';

let harness: PipelineHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** v2's embedder answering NaN for one document (a poison item: bisected out and dead-lettered). */
async function poisoned(h: PipelineHarness): Promise<Embedder> {
  const ns = await h.app.backend.catalog.getNamespace('docs@v2');
  return faultyEmbedder(createHashingEmbedder(ns.space), {
    transientRate: 0,
    hangRate: 0,
    rateLimitRate: 0,
    poison: (text) => (/ unique15$/.test(text) ? 'nan' : null),
    random: () => 1,
  });
}

/** `jobs` with `method` throwing once, as if the process died at that step. */
function crashingOnce(jobs: JobRepository, method: keyof JobRepository): JobRepository {
  let crashed = false;
  return new Proxy(jobs, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === method && !crashed) {
        return async () => {
          crashed = true;
          throw new ReembedError('STORE_FAILED', `simulated crash at ${String(method)}`);
        };
      }
      return value.bind(target);
    },
  });
}

async function deadLetterIds(h: PipelineHarness): Promise<string[]> {
  return (await h.jobs.listDeadLetters('docs@v2')).map((d) => d.sourceId);
}

/** Namespace problems other than the expected absence of the poison item. */
async function problemsBesidesPoison(h: PipelineHarness): Promise<string[]> {
  const problems = await assertNamespaceMatchesSource(h.app, 'docs@v2');
  return problems.filter((p) => !p.includes(POISON_ID) && !/live sources, source has|records for/.test(p));
}

for (const driver of PIPELINE_DRIVERS) {
  describe.skipIf(!driver.available)(`backfill pipeline: ${driver.name}`, () => {
    it('writes every source once, dead-letters a poison item and checkpoints the end of the pass', async () => {
      harness = await driver.open(N, { batchSize: 10 });
      const report = await harness.pass({ embedder: await poisoned(harness) });
      expect(report).toMatchObject({ status: 'done', written: N - 1, deadLettered: 1 });
      expect(await deadLetterIds(harness)).toEqual([POISON_ID]);
      expect(await problemsBesidesPoison(harness)).toEqual([]);
      expect((await harness.app.backend.store.stats('docs@v2')).sources).toBe(N - 1);
      expect((await harness.checkpoint())?.processed).toBe(N);
    });

    it('records dead letters before the checkpoint passes them: a crash between the two loses none', async () => {
      harness = await driver.open(N, { batchSize: 10 });
      const embedder = await poisoned(harness);
      const crashed = await harness.pass({ embedder, jobs: crashingOnce(harness.jobs, 'addDeadLetters') });
      expect(crashed.status).toBe('failed');
      expect(crashed.error?.message).toContain('simulated crash');
      // The batch holding the poison item did not commit its checkpoint: the resume repeats it.
      expect((await harness.checkpoint())?.processed ?? 0).toBeLessThanOrEqual(10);
      const resumed = await harness.pass({ embedder });
      expect(resumed.status).toBe('done');
      expect(await deadLetterIds(harness)).toEqual([POISON_ID]);
      expect(await problemsBesidesPoison(harness)).toEqual([]);
    });

    it('stops on a failure that outlasts its retries with the checkpoint of what committed, and resumes without a gap', async () => {
      harness = await driver.open(N, { batchSize: 10, maxRetries: 1 });
      const ns = await harness.app.backend.catalog.getNamespace('docs@v2');
      const base = createHashingEmbedder(ns.space);
      let calls = 0;
      const failing: Embedder = {
        ...base,
        embed: async (texts, options) => {
          calls++;
          if (calls >= 3) throw new ReembedError('EMBEDDER_TRANSIENT', 'provider returned 503');
          return base.embed(texts, options);
        },
      };
      const stopped = await harness.pass({ embedder: failing });
      expect(stopped).toMatchObject({ status: 'failed', error: { code: 'EMBEDDER_TRANSIENT' } });
      const saved = await harness.checkpoint();
      expect(saved?.processed ?? 0).toBeLessThan(N);
      const resumed = await harness.pass();
      expect(resumed.status).toBe('done');
      // Only the batches in flight when it stopped are embedded again.
      expect(resumed.written).toBeLessThanOrEqual(N - (saved?.processed ?? 0));
      expect(resumed.written + resumed.skipped).toBeGreaterThanOrEqual(N - (saved?.processed ?? 0));
      expect(await assertNamespaceMatchesSource(harness.app, 'docs@v2')).toEqual([]);
      expect((await harness.checkpoint())?.processed).toBe(N);
    });

    it("counts the pipeline's retries and the embedder's own", async () => {
      harness = await driver.open(N, { batchSize: 10, maxRetries: 3 });
      const ns = await harness.app.backend.catalog.getNamespace('docs@v2');
      const base = createHashingEmbedder(ns.space);
      let calls = 0;
      const flaky: Embedder = {
        ...base,
        embed: async (texts, options) => {
          calls++;
          // The embedder absorbed two 429s inside the call (an HTTP provider's own retries).
          if (calls === 2)
            for (const attempt of [1, 2])
              options.onRetry?.({ attempt, delayMs: 0, status: 429, reason: 'rate limited' });
          // And failed one call outright, which the pipeline retries.
          if (calls === 4) throw new ReembedError('EMBEDDER_TRANSIENT', 'provider returned 503');
          return base.embed(texts, options);
        },
      };
      const report = await harness.pass({ embedder: flaky });
      expect(report).toMatchObject({ status: 'done', written: N, retries: 3 });
      expect(await assertNamespaceMatchesSource(harness.app, 'docs@v2')).toEqual([]);
    });

    it('batches by tokens as well as by count', async () => {
      harness = await driver.open(N, { batchSize: 10, maxBatchTokens: 40 });
      const ns = await harness.app.backend.catalog.getNamespace('docs@v2');
      const base = createHashingEmbedder(ns.space);
      const calls: number[] = [];
      const counting: Embedder = {
        ...base,
        embed: async (texts, options) => {
          calls.push(texts.reduce((n, t) => n + base.countTokens(t), 0));
          return base.embed(texts, options);
        },
      };
      expect(await harness.pass({ embedder: counting })).toMatchObject({ status: 'done', written: N });
      // A batch closes once it reaches the budget: at most one document (< 25 tokens here) past it.
      expect(Math.max(...calls)).toBeLessThan(40 + 25);
      expect(calls.length).toBeGreaterThan(N / 10);
      expect(await assertNamespaceMatchesSource(harness.app, 'docs@v2')).toEqual([]);
    });

    it('never overwrites a newer write (invariant 4) nor resurrects a delete (invariant 5)', async () => {
      harness = await driver.open(N, { batchSize: 10 });
      const h = harness;
      const ns = await h.app.backend.catalog.getNamespace('docs@v2');
      const base = createHashingEmbedder(ns.space);
      let first = true;
      const held: Embedder = {
        ...base,
        embed: async (texts, options) => {
          if (first) {
            // While the first batch (doc-00000..9, read at their old versions) is being embedded, the
            // application rewrites one of its documents and deletes another.
            first = false;
            await h.app.ingest('docs', [
              { id: 'doc-00001', text: 'rewritten while the backfill held the old text' },
            ]);
            await h.app.delete('docs', ['doc-00002']);
          }
          return base.embed(texts, options);
        },
      };
      expect((await h.pass({ embedder: held })).status).toBe('done');
      expect(await assertNamespaceMatchesSource(h.app, 'docs@v2')).toEqual([]);
      const heads = await h.app.backend.store.heads('docs@v2', ['doc-00001', 'doc-00002']);
      expect(heads.get('doc-00002')?.deleted).toBe(true);
      expect(heads.get('doc-00001')?.sourceVersion).toBe(
        (await h.app.backend.sources.get('docs', 'doc-00001'))?.version,
      );
    });
  });
}
