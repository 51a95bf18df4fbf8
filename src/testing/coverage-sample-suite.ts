import { expect, it } from 'vitest';
import type { CoverageSample, CoverageSampleRepository } from '../ports/coverage-samples.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface CoverageSampleHarness {
  readonly samples: CoverageSampleRepository;
  cleanup(): Promise<void>;
}

export type CoverageSampleSuiteOptions = SuiteOptions<CoverageSampleHarness>;

const at = (minutes: number): string => new Date(Date.UTC(2026, 0, 5, 12, minutes, 0, 123)).toISOString();

function sample(namespace: string, minutes: number, current: number, collection = 'docs'): CoverageSample {
  return { namespace, collection, at: at(minutes), live: 100, current, stale: 100 - current };
}

/**
 * The conformance suite of coverage-sample repositories: samples come back as stored (times to the
 * millisecond), oldest first; a sample of the same namespace and time replaces the held one; reads filter
 * by collection, namespace and time; `latest` gives the newest per namespace; pruning drops old samples.
 */
export function testCoverageSampleRepository(options: CoverageSampleSuiteOptions): void {
  describeSuite('Coverage sample repository', options, (h) => {
    it('stores samples, replaces one of the same namespace and time, reads oldest first', async () => {
      await h.samples.record([sample('docs@v2', 5, 40), sample('docs@v1', 0, 100), sample('docs@v2', 0, 10)]);
      await h.samples.record([sample('docs@v2', 5, 45)]);
      expect(await h.samples.read()).toEqual([
        sample('docs@v1', 0, 100),
        sample('docs@v2', 0, 10),
        sample('docs@v2', 5, 45),
      ]);
      await h.samples.record([]);
      expect(await h.samples.read()).toHaveLength(3);
    });

    it('filters by collection, namespace and time; latest is the newest per namespace; prunes', async () => {
      await h.samples.record([
        sample('docs@v1', 0, 100),
        sample('docs@v2', 0, 10),
        sample('docs@v2', 7, 70),
        sample('faq@v1', 3, 5, 'faq'),
      ]);
      expect((await h.samples.read({ collection: 'faq' })).map((s) => s.namespace)).toEqual(['faq@v1']);
      expect((await h.samples.read({ namespace: 'docs@v2' })).map((s) => s.current)).toEqual([10, 70]);
      expect((await h.samples.read({ since: new Date(at(3)) })).map((s) => s.namespace)).toEqual([
        'faq@v1',
        'docs@v2',
      ]);
      const latest = await h.samples.latest('docs');
      expect([...latest.keys()].sort()).toEqual(['docs@v1', 'docs@v2']);
      expect(latest.get('docs@v2')).toEqual(sample('docs@v2', 7, 70));
      expect((await h.samples.latest()).size).toBe(3);
      expect(await h.samples.prune(new Date(at(3)))).toBe(2);
      expect((await h.samples.read()).map((s) => s.namespace)).toEqual(['faq@v1', 'docs@v2']);
    });
  });
}
