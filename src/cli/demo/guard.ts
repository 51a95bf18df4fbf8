import { embedSources } from '../../app/embed-sources.js';
import { isReembedError, ReembedError } from '../../core/errors.js';
import { type DemoState, type DemoStep, need, type StepOutcome } from './types.js';
import { sourcePages } from './upgrade.js';

/**
 * Step: ask the store for the naive upgrade — write one document's v2 vector into the v1 namespace —
 * and show the typed error the guard raises (invariant 1). If the write were accepted, the demo fails:
 * that would be the silent corruption reembed exists to prevent.
 */
export const guardStep: DemoStep = {
  name: 'guard',
  async run(state: DemoState): Promise<StepOutcome> {
    const v1Namespace = need(state.v1Namespace, 'the v1 namespace');
    const v2 = need(state.v2, 'space v2');
    const first = (await sourcePages(state.app, state.collection, 1).next()).value?.[0];
    if (!first)
      throw new ReembedError('INVALID_STATE', 'The collection is empty: nothing to try the guard with.');
    const writes = await embedSources(await state.app.embedders.get(v2), [first]);
    try {
      await state.app.backend.store.write(v1Namespace, v2.fingerprint, writes);
    } catch (error) {
      if (!isReembedError(error, 'SPACE_MISMATCH')) throw error;
      state.guard = { code: error.code, message: error.message };
      const stats = await state.app.backend.store.stats(v1Namespace);
      return {
        summary: `writing the v2 vector of "${first.id}" into ${v1Namespace} was refused: ${error.code}`,
        details: {
          code: error.code,
          message: error.message,
          document: first.id,
          v1Fingerprints: stats.fingerprints,
        },
      };
    }
    throw new ReembedError(
      'INVALID_STATE',
      `The store accepted a ${v2.name} vector in ${v1Namespace}: the namespace guard is broken. Report this as a bug.`,
      { details: { namespace: v1Namespace, space: v2.name } },
    );
  },
};
