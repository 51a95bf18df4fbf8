import type { ReembedError } from '../../core/errors.js';
import { hashingSpace } from '../../embedders/hashing.js';
import { ingestBatches } from '../ingest-corpus.js';
import { formatRate } from '../progress.js';
import type { DemoState, DemoStep, StepOutcome } from './types.js';

export const V1_SPACE = 'v1-hashing';

/** Step: space v1 (feature hashing at the demo's dimension) and a collection served by it through an alias. */
export const setupStep: DemoStep = {
  name: 'setup-v1',
  async run(state: DemoState): Promise<StepOutcome> {
    // Sublinear tf keeps frequent words from drowning the hashed features: a fair lexical baseline.
    const v1 = await state.app.addSpace(
      hashingSpace(V1_SPACE, { dimension: state.options.dimension, sublinear: true }),
    );
    const created = await state.app.createCollection(state.collection, v1.name, { alias: state.alias });
    state.v1 = v1;
    state.v1Namespace = created.namespace.name;
    return {
      summary: `space ${v1.name} (hashing, ${v1.spec.dimension}d, ${v1.fingerprint}); collection ${state.collection} served by ${created.namespace.name} through alias ${state.alias}`,
      details: {
        space: v1.name,
        fingerprint: v1.fingerprint,
        namespace: created.namespace.name,
        alias: state.alias,
      },
    };
  },
};

/** Step: ingest the corpus (sources retained, v1 vectors written) with a progress bar. */
export const ingestStep: DemoStep = {
  name: 'ingest',
  async run(state: DemoState): Promise<StepOutcome> {
    const ids = new Set<string>();
    const skipped: { line: unknown; id: unknown; reason: string }[] = [];
    const dataset = state.dataset;
    const onInvalid = (error: ReembedError): void => {
      skipped.push({ line: error.details.line, id: error.details.id, reason: error.message });
      // Judgments may name a skipped document: it stays "known" (and can never be retrieved).
      if (typeof error.details.id === 'string') ids.add(error.details.id);
    };
    async function* tracked() {
      for await (const batch of dataset.batches(state.options.batchSize, onInvalid)) {
        for (const d of batch.docs) ids.add(d.id);
        yield batch;
      }
    }
    const task = state.ctx.progress.start(`ingest ${state.collection}`, {
      total: dataset.size,
      unit: 'docs',
    });
    const totals = await ingestBatches(state.app, state.collection, tracked(), task);
    state.ingestedIds = ids;
    state.documents = totals.documents;
    const rate = totals.seconds > 0 ? totals.documents / totals.seconds : 0;
    const skippedNote =
      skipped.length === 0
        ? ''
        : `; skipped ${skipped.length} invalid line(s): ${skipped
            .slice(0, 3)
            .map((s) => `line ${s.line}`)
            .join(', ')}${skipped.length > 3 ? ', …' : ''}`;
    return {
      summary: `ingested ${totals.documents} documents into ${state.v1Namespace} (${formatRate(rate)} docs/s)${skippedNote}`,
      details: { documents: totals.documents, docsPerSecond: rate, namespaces: totals.namespaces, skipped },
    };
  },
};

/** Step: the judged queries, checked against the ingested ids. */
export const goldenStep: DemoStep = {
  name: 'load-golden',
  async run(state: DemoState): Promise<StepOutcome> {
    const golden = await state.dataset.golden(state.ingestedIds ?? new Set());
    state.golden = golden;
    const judged = golden.queries.length;
    return {
      summary: `${judged} judged queries (${golden.judgments} judgments, ${golden.digest})`,
      details: {
        name: golden.name,
        queries: judged,
        judgments: golden.judgments,
        digest: golden.digest,
        skipped: golden.skipped,
      },
    };
  },
};
