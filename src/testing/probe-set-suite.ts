import { expect, it } from 'vitest';
import { type ProbeSet, probeSetValue, resolveProbeParams } from '../core/probe.js';
import type { Catalog } from '../ports/catalog.js';
import type { ProbeSetInfo, ProbeSetRepository } from '../ports/evaluation-sets.js';
import {
  type EvaluationSetKind,
  expectSavedAndListed,
  expectSaveReplaceDelete,
} from './evaluation-set-cases.js';
import { expectCode } from './fixtures.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface ProbeSetHarness {
  readonly probes: ProbeSetRepository;
  /** The catalog of the same backend (its audit log receives `probe.save` / `probe.delete`). */
  readonly catalog: Catalog;
  /** Runs raw SQL against the backend (to tamper with a stored row). */
  readonly raw: (sql: string) => Promise<void>;
  /** The qualified name of the probe queries table in raw SQL. */
  readonly queriesTable: string;
  cleanup(): Promise<void>;
}

export type ProbeSetSuiteOptions = SuiteOptions<ProbeSetHarness>;

/** A small probe built directly (the sampler has its own tests): every field a repository must keep. */
export function sampleProbe(
  name = 'docs',
  seed = 1,
  tenants: readonly (string | null)[] = ['acme', null],
): ProbeSet {
  return probeSetValue({
    name,
    collection: 'docs',
    params: resolveProbeParams({ seed }),
    queries: Array.from({ length: 31 }, (_, i) => ({
      id: `p${String(i + 1).padStart(4, '0')}`,
      sourceId: `doc-${i}`,
      tenant: tenants[i % tenants.length] ?? null,
      contentHash: `hash-${i}`,
      kind: (['title', 'sentence', 'span'] as const)[i % 3] as 'title' | 'sentence' | 'span',
      text: `query ${i} — naïve café ${seed}`,
      heldOut: i % 4 === 0 ? null : `the rest of document ${i}`,
    })),
    population: { live: 500, tenants: { '': { live: 200, queries: 15 }, acme: { live: 300, queries: 16 } } },
    skipped: { 'too-short': 3 },
  });
}

/**
 * The conformance suite of probe-set repositories: a stored probe comes back equal (same digest), saving
 * the same content is a no-op, other content needs `replace`, a tampered row is detected, and every save
 * and delete is in the audit log (invariant 8).
 */
export function testProbeSetRepository(options: ProbeSetSuiteOptions): void {
  describeSuite('Probe set repository', options, (h) => {
    const kind = (): EvaluationSetKind<ProbeSet, ProbeSetInfo> => ({
      repository: h.probes,
      catalog: h.catalog,
      audit: 'probe',
      sample: () => sampleProbe(),
      other: () => sampleProbe('docs', 2),
    });

    it('stores a probe and reads it back with the same digest, queries in order', async () => {
      const { saved, back } = await expectSavedAndListed(kind(), 'docs', 'test', {
        kind: 'probe-set-info',
        collection: 'docs',
        queries: 31,
        population: { live: 500 },
      });
      expect(back).toEqual(saved);
    });

    it('saving the same content is a no-op; other content needs replace; every change is audited', async () => {
      await expectSaveReplaceDelete(kind(), 'docs');
    });

    it('refuses bad names and detects rows changed outside reembed', async () => {
      await expectCode(h.probes.save('no spaces', sampleProbe()), 'INVALID_INPUT');
      await h.probes.save('docs', sampleProbe());
      await h.raw(`UPDATE ${h.queriesTable} SET text = 'tampered' WHERE query_id = 'p0003'`);
      await expectCode(h.probes.get('docs'), 'STORE_FAILED');
    });
  });
}
