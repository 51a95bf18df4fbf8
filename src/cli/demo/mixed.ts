import { createHash } from 'node:crypto';
import { embedSources } from '../../app/embed-sources.js';
import { ReembedError } from '../../core/errors.js';
import { queryText } from '../../core/pipeline.js';
import type { SourceDocument } from '../../core/records.js';
import { dot } from '../../core/vector.js';
import { evaluateRow, metricsLine } from './evaluate.js';
import { type DemoState, type DemoStep, need, type StepOutcome } from './types.js';
import { sourcePages } from './upgrade.js';

/**
 * Step (c): the index reembed refuses to build — one vector per document, a share of them re-embedded
 * to v2 and the rest still v1, queried with v2 — built in memory, outside the store, to measure what it
 * would cost. Which documents are "already migrated" is a seeded hash of their ids.
 */
export const mixedStep: DemoStep = {
  name: 'mixed-index',
  async run(state: DemoState): Promise<StepOutcome> {
    const [v1, v2] = [need(state.v1, 'space v1'), need(state.v2, 'space v2')];
    if (v1.spec.dimension !== v2.spec.dimension) {
      throw new ReembedError('INVALID_STATE', 'The mixed index needs v1 and v2 at the same dimension.');
    }
    const dimension = v2.spec.dimension;
    const docs: SourceDocument[] = [];
    for await (const page of sourcePages(state.app, state.collection)) docs.push(...page);
    const migrated = migratedIds(
      docs.map((d) => d.id),
      state.options.migratedShare,
      state.options.seed,
    );
    const [e1, e2] = [await state.app.embedders.get(v1), await state.app.embedders.get(v2)];
    const oldDocs = docs.filter((d) => !migrated.has(d.id));
    const newDocs = docs.filter((d) => migrated.has(d.id));
    const writes = [...(await embedSources(e1, oldDocs)), ...(await embedSources(e2, newDocs))];
    const owners: string[] = [];
    const rows: Float32Array[] = [];
    for (const w of writes)
      for (const c of w.chunks) {
        owners.push(w.sourceId);
        rows.push(c.vector);
      }
    const matrix = new Float32Array(rows.length * dimension);
    for (const [i, r] of rows.entries()) matrix.set(r, i * dimension);
    const e = await evaluateRow(
      state,
      {
        row: 'mixed',
        label: `(c) mixed ${Math.round(100 * (1 - state.options.migratedShare))}% v1 / ${Math.round(100 * state.options.migratedShare)}% v2`,
        index: 'memory',
        queryWith: v2.name,
      },
      async (text, k) => {
        const [q] = await e2.embed([queryText(v2.spec, text)], { inputType: 'query' });
        if (!q)
          throw new ReembedError('EMBEDDER_FAILED', `The ${v2.name} embedder returned no query vector.`);
        return topSources(q, matrix, owners, k);
      },
    );
    return {
      summary: `(c) naive mixed index in memory (${newDocs.length} docs re-embedded to v2, ${oldDocs.length} still v1), queried with v2: ${metricsLine(e)}`,
      details: { migrated: newDocs.length, unmigrated: oldDocs.length, evaluation: e },
    };
  },
};

/** Exactly `round(share × n)` ids, chosen by the lowest seeded hash: a stable, unbiased "already migrated" set. */
export function migratedIds(ids: readonly string[], share: number, seed: number): Set<string> {
  const keyed = ids.map((id) => ({ id, key: createHash('sha1').update(`${seed}:${id}`).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return new Set(keyed.slice(0, Math.round(share * ids.length)).map((x) => x.id));
}

/**
 * Top k sources by their best chunk's dot product (vectors are L2-normalised: cosine). A bounded insertion
 * list over rows keeps this O(rows × k) without sorting the whole index per query.
 */
export function topSources(
  query: Float32Array,
  matrix: Float32Array,
  owners: readonly string[],
  k: number,
): string[] {
  const dimension = query.length;
  const ids: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < owners.length; i++) {
    const score = dot(query, matrix, i * dimension);
    if (ids.length === k && score <= (scores[k - 1] as number)) continue;
    const owner = owners[i] as string;
    const existing = ids.indexOf(owner);
    if (existing !== -1) {
      if (score <= (scores[existing] as number)) continue;
      ids.splice(existing, 1);
      scores.splice(existing, 1);
    }
    let at = scores.length;
    while (at > 0 && (scores[at - 1] as number) < score) at--;
    ids.splice(at, 0, owner);
    scores.splice(at, 0, score);
    if (ids.length > k) {
      ids.pop();
      scores.pop();
    }
  }
  return ids;
}
