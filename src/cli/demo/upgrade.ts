import { embedSources } from '../../app/embed-sources.js';
import type { Reembed } from '../../app/reembed.js';
import type { SourceDocument } from '../../core/records.js';
import { fitLsaSpaceResponsively, withModelPath } from '../lsa-model.js';
import { formatRate } from '../progress.js';
import { evaluateRow, metricsLine } from './evaluate.js';
import { type DemoState, type DemoStep, need, type StepOutcome } from './types.js';

export const V2_SPACE = 'v2-lsa';
const PAGE = 500;

/** Live source documents of a collection, page by page in id order (the source of truth). */
export async function* sourcePages(
  app: Reembed,
  collection: string,
  limit = PAGE,
): AsyncGenerator<SourceDocument[]> {
  let afterId: string | undefined;
  for (;;) {
    const page = await app.backend.sources.scan(collection, {
      limit,
      ...(afterId !== undefined ? { afterId } : {}),
    });
    if (page.length === 0) return;
    yield page.filter((d) => !d.deleted);
    afterId = page[page.length - 1]?.id;
  }
}

/** Step: fit v2 — LSA at the same dimension as v1 — on the retained sources, and register its space. */
export const fitV2Step: DemoStep = {
  name: 'fit-v2',
  async run(state: DemoState): Promise<StepOutcome> {
    const texts: string[] = [];
    for await (const page of sourcePages(state.app, state.collection))
      for (const d of page) texts.push(d.text);
    state.ctx.out.note(
      `fitting LSA (${state.options.dimension} dimensions) on ${texts.length} documents ...`,
    );
    const fitted = await fitLsaSpaceResponsively(
      {
        name: V2_SPACE,
        dataDir: state.dataDir,
        texts,
        dimension: state.options.dimension,
        seed: state.options.seed,
      },
      state.ctx.interrupt(),
    );
    const v2 = await state.app.addSpace(
      state.absoluteModelPaths ? withModelPath(fitted.space, fitted.path) : fitted.space,
    );
    state.v2 = v2;
    return {
      summary: `space ${v2.name} (LSA, ${v2.spec.dimension}d — the same dimension as v1 — ${v2.fingerprint}) fitted on ${fitted.documents} documents, ${fitted.terms} terms in ${fitted.seconds.toFixed(1)} s`,
      details: {
        space: v2.name,
        fingerprint: v2.fingerprint,
        modelPath: fitted.path,
        documents: fitted.documents,
        terms: fitted.terms,
      },
    };
  },
};

/** Step (b): a second namespace built properly in the store from the sources, then evaluated. */
export const buildV2Step: DemoStep = {
  name: 'build-v2',
  async run(state: DemoState): Promise<StepOutcome> {
    const v2 = need(state.v2, 'space v2');
    const ns = await state.app.createNamespace(state.collection, v2, 'building', state.v1Namespace ?? null);
    state.v2Namespace = ns.name;
    const embedder = await state.app.embedders.get(v2);
    const task = state.ctx.progress.start(`build ${ns.name}`, { total: state.documents ?? 0, unit: 'docs' });
    const started = performance.now();
    let written = 0;
    try {
      for await (const page of sourcePages(state.app, state.collection)) {
        const writes = await embedSources(embedder, page);
        written += (await state.app.backend.store.write(ns.name, v2.fingerprint, writes)).written;
        task.advance(page.length);
      }
    } finally {
      task.end();
    }
    const seconds = (performance.now() - started) / 1000;
    const e = await evaluateRow(
      state,
      { row: 'clean-v2', label: '(b) clean v2', index: ns.name, queryWith: v2.name },
      async (text, k) =>
        (await state.app.queries.queryNamespace(ns.name, { text, k })).hits.map((h) => h.sourceId),
    );
    return {
      summary: `built ${ns.name}: ${written} documents (${formatRate(seconds > 0 ? written / seconds : 0)} docs/s); (b) clean v2: ${metricsLine(e)}`,
      details: { namespace: ns.name, written, seconds, evaluation: e },
    };
  },
};
