import { expect, it } from 'vitest';
import { type ProbeSet, probeSetValue, resolveProbeParams } from '../core/probe.js';
import type { Catalog } from '../ports/catalog.js';
import type { ProbeSetRepository } from '../ports/evaluation-sets.js';
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
    it('stores a probe and reads it back with the same digest, queries in order', async () => {
      const probe = sampleProbe();
      const info = await h.probes.save('docs', probe, { actor: 'alice', source: 'test' });
      expect(info).toMatchObject({
        kind: 'probe-set-info',
        name: 'docs',
        collection: 'docs',
        digest: probe.digest,
        queries: 31,
        savedBy: 'alice',
        source: 'test',
      });
      const back = await h.probes.get('docs');
      expect(back).toEqual(probe);
      expect((await h.probes.list()).map((p) => [p.name, p.digest, p.population.live])).toEqual([
        ['docs', probe.digest, 500],
      ]);
    });

    it('saving the same content is a no-op; other content needs replace; every change is audited', async () => {
      await h.probes.save('docs', sampleProbe(), { actor: 'alice' });
      await h.probes.save('docs', sampleProbe(), { actor: 'bob' });
      await expectCode(h.probes.save('docs', sampleProbe('docs', 2), { actor: 'bob' }), 'ALREADY_EXISTS');
      const replaced = await h.probes.save('docs', sampleProbe('docs', 2), { actor: 'bob', replace: true });
      expect(replaced.params.seed).toBe(2);
      expect((await h.probes.get('docs')).params.seed).toBe(2);
      expect(await h.probes.delete('docs', { actor: 'carol' })).toBe(true);
      expect(await h.probes.delete('docs', { actor: 'carol' })).toBe(false);
      const audit = (await h.catalog.listAudit({ subject: 'docs' })).filter((a) =>
        a.action.startsWith('probe.'),
      );
      expect(audit.map((a) => [a.action, a.actor])).toEqual(
        expect.arrayContaining([
          ['probe.save', 'alice'],
          ['probe.save', 'bob'],
          ['probe.delete', 'carol'],
        ]),
      );
      expect(audit).toHaveLength(3);
      await expectCode(h.probes.get('docs'), 'NOT_FOUND');
    });

    it('refuses bad names and detects rows changed outside reembed', async () => {
      await expectCode(h.probes.save('no spaces', sampleProbe()), 'INVALID_INPUT');
      await h.probes.save('docs', sampleProbe());
      await h.raw(`UPDATE ${h.queriesTable} SET text = 'tampered' WHERE query_id = 'p0003'`);
      await expectCode(h.probes.get('docs'), 'STORE_FAILED');
    });
  });
}
