import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FuseInput, fuseResults, minMax, zScore } from './fusion.js';
import type { SearchHit } from './records.js';
import type { FusionMethod } from './routing.js';

const COVERAGE_AWARE: FusionMethod[] = ['coverage-aware-rrf', 'coverage-aware-score'];

function hit(sourceId: string, score: number, fingerprint = 'fp'): SearchHit {
  const chunkId = `${sourceId}#0`;
  return {
    sourceId,
    chunkId,
    score,
    text: sourceId,
    metadata: {},
    tenant: null,
    provenance: { fingerprint, sourceId, chunkId, contentHash: 'h', sourceVersion: 1, embeddedAt: 'now' },
  };
}

/** A list from ids, best first, with strictly decreasing scores starting at `top`. */
function list(ids: readonly string[], top = 1, step = 0.01): SearchHit[] {
  return ids.map((id, i) => hit(id, top - i * step));
}

function input(
  method: FusionMethod,
  primary: readonly string[],
  next: readonly string[],
  migrated: readonly string[],
  extra: Partial<FuseInput> = {},
): FuseInput {
  return {
    primary: { namespace: 'old', hits: list(primary) },
    next: { namespace: 'new', hits: list(next, 0.9, 0.02) },
    migrated: new Set(migrated),
    policy: { method },
    k: 10,
    ...extra,
  };
}

const ids = (hits: readonly { sourceId: string }[]): string[] => hits.map((h) => h.sourceId);

/** Random fusion inputs: a primary over a universe, a next list over migrated documents only. */
const scenario = fc
  .record({
    universe: fc.integer({ min: 1, max: 40 }),
    primaryPick: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    migratedPick: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    nextPick: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    // Keys on a grid: random orders and scores, ties possible but no differences within rounding.
    order: fc.array(
      fc.integer({ min: 0, max: 1000 }).map((i) => i / 1000),
      { minLength: 80, maxLength: 80 },
    ),
    k: fc.integer({ min: 1, max: 15 }),
    method: fc.constantFrom(...COVERAGE_AWARE),
  })
  .map((s) => {
    const all = Array.from({ length: s.universe }, (_, i) => `d${i}`);
    const ranked = (offset: number, pick: boolean[], score: (key: number) => number): SearchHit[] =>
      all
        .map((id, i) => ({ id, key: s.order[offset + i] as number }))
        .filter((_, i) => pick[i])
        .sort((a, b) => a.key - b.key)
        .map((x) => hit(x.id, score(x.key)));
    const migrated = new Set(all.filter((_, i) => s.migratedPick[i]));
    const inNext = all.map((id, i) => (s.nextPick[i] as boolean) && migrated.has(id));
    return {
      primary: { namespace: 'old', hits: ranked(0, s.primaryPick, (key) => 1 - key) },
      next: { namespace: 'new', hits: ranked(40, inNext, (key) => 2 - 3 * key) },
      migrated,
      policy: { method: s.method },
      k: s.k,
    } satisfies FuseInput;
  });

describe('textbook fusion', () => {
  it('zScore and minMax normalise within one list', () => {
    expect(minMax([3, 1, 2])).toEqual([1, 0, 0.5]);
    expect(minMax([2, 2])).toEqual([1, 1]);
    expect(zScore([1, 3])).toEqual([-1, 1]);
    expect(zScore([5, 5])).toEqual([0, 0]);
    expect(minMax([])).toEqual([]);
  });

  it('summed RRF credits a document found by both lists twice (the bias coverage-aware fusion removes)', () => {
    // u1 is the old space's best unmigrated document; m9 is a weak migrated one, deep in both lists.
    const primary = ['u1', 'u2', 'u3', 'u4', 'm9'];
    const next = ['m9', 'm1'];
    const rrf = fuseResults(input('rrf', primary, next, ['m9', 'm1']));
    expect(ids(rrf).indexOf('m9')).toBeLessThan(ids(rrf).indexOf('u1'));
    for (const method of COVERAGE_AWARE) {
      expect(ids(fuseResults(input(method, primary, next, ['m9', 'm1'])))[0]).toBe('u1');
    }
  });
});

describe('coverage-aware fusion (properties)', () => {
  it('with nothing migrated and nothing rescored, the result is the primary list', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const none = { ...s, migrated: new Set<string>() };
        expect(ids(fuseResults(none))).toEqual(ids(s.primary.hits).slice(0, s.k));
      }),
    );
  });

  it('returns distinct candidates only, at most k, as many as it can', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const out = ids(fuseResults(s));
        const candidates = new Set([
          ...ids(s.primary.hits),
          ...ids(s.next.hits).filter((id) => s.migrated.has(id)),
        ]);
        expect(new Set(out).size).toBe(out.length);
        expect(out.length).toBe(Math.min(s.k, candidates.size));
        for (const id of out) expect(candidates.has(id)).toBe(true);
      }),
    );
  });

  it('keeps the old order among unmigrated documents and the new order among migrated ones (no sums)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const out = ids(fuseResults(s));
        const unmigrated = out.filter((id) => !s.migrated.has(id));
        expect(unmigrated).toEqual(
          ids(s.primary.hits)
            .filter((id) => !s.migrated.has(id))
            .slice(0, unmigrated.length),
        );
        const nextOrder = ids(s.next.hits);
        const fromNext = out.filter((id) => nextOrder.includes(id));
        expect(fromNext).toEqual(nextOrder.slice(0, fromNext.length));
      }),
    );
  });

  it('coverage-aware-rrf never pushes an unmigrated document below its primary rank', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const out = ids(fuseResults({ ...s, policy: { method: 'coverage-aware-rrf' } }));
        out.forEach((id, i) => {
          if (!s.migrated.has(id)) expect(i).toBe(ids(s.primary.hits).indexOf(id));
        });
      }),
    );
  });

  it('with every candidate migrated, the result is the next list', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const all = new Set([...ids(s.primary.hits), ...ids(s.next.hits)]);
        const full = {
          ...s,
          migrated: all,
          next: { namespace: 'new', hits: list([...all], 0.5, 0.001) },
          coverage: 1,
        };
        expect(ids(fuseResults(full))).toEqual([...all].slice(0, s.k));
      }),
    );
  });

  it('never compares raw scores across spaces: a positive affine change of either list changes nothing', () => {
    fc.assert(
      fc.property(
        scenario,
        // Powers of two scale exactly, so the check is about the method, not about rounding.
        fc.integer({ min: -8, max: 8 }).map((e) => 2 ** e),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (s, scale, shift) => {
          const moved = (hits: readonly SearchHit[]): SearchHit[] =>
            hits.map((h) => ({ ...h, score: h.score * scale + shift }));
          const before = ids(fuseResults(s));
          expect(ids(fuseResults({ ...s, next: { ...s.next, hits: moved(s.next.hits) } }))).toEqual(before);
          expect(ids(fuseResults({ ...s, primary: { ...s.primary, hits: moved(s.primary.hits) } }))).toEqual(
            before,
          );
        },
      ),
    );
  });
});

describe('coverage-aware fusion (cases)', () => {
  it('serves migrated documents from the next namespace and stale ones from the primary', () => {
    for (const method of COVERAGE_AWARE) {
      // m2 is in the next list but not migrated (its source changed since): the old record serves it.
      const out = fuseResults(input(method, ['u1', 'm1', 'm2'], ['m1', 'm2'], ['m1']));
      expect(out.map((h) => [h.sourceId, h.namespace])).toEqual([
        ['u1', 'old'],
        ['m1', 'new'],
        ['m2', 'old'],
      ]);
      expect(out[1]?.ranks).toEqual({ old: 2, new: 1 });
      expect(out.map((h) => h.fusedScore)).toEqual([1, 1 / 2, 1 / 3]);
    }
  });

  it("coverage-aware-rrf fills the old list's migrated slots in the new order", () => {
    const out = fuseResults(
      input('coverage-aware-rrf', ['u1', 'm1', 'u2', 'm2'], ['m3', 'm2', 'm1'], ['m1', 'm2', 'm3']),
    );
    expect(ids(out)).toEqual(['u1', 'm3', 'u2', 'm2', 'm1']);
  });

  it('coverage-aware-score compares the new list over the same depth of the corpus', () => {
    // Old list: 10 hits, 8 unmigrated. New list: the two migrated ones plus deeper migrated documents.
    const primary = ['u1', 'u2', 'm1', 'u3', 'u4', 'u5', 'm2', 'u6', 'u7', 'u8'];
    const next = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10'];
    const migrated = [...next];
    const base = input('coverage-aware-score', primary, next, migrated, { k: 20 });
    // Estimated coverage 20%: only the new list's top few stand for the corpus's top 10, so its deeper
    // hits fall below every unmigrated document of the old top 10.
    const estimated = ids(fuseResults(base));
    expect(estimated.indexOf('m4')).toBeGreaterThan(estimated.indexOf('u8'));
    // Told the coverage is 100%, the new top 10 stands for the corpus's top 10: a fair interleave.
    const told = ids(fuseResults({ ...base, coverage: 1 }));
    expect(told.indexOf('m5')).toBeLessThan(told.indexOf('u8'));
  });

  it('embed-on-read: rescored unmigrated documents are ordered by the new space with the migrated ones', () => {
    for (const method of COVERAGE_AWARE) {
      const primary = ['u1', 'u2', 'u3', 'm1'];
      const rescored = [hit('u3', 0.95), hit('u1', 0.5), hit('u2', 0.7), hit('m1', 9), hit('x', 9)];
      // Nothing migrated: the rescored old top documents are reordered by their new-space scores.
      const none = fuseResults({ ...input(method, primary, [], []), rescored: rescored.slice(0, 3) });
      expect(ids(none)).toEqual(['u3', 'u2', 'u1', 'm1']);
      // m1 migrated (new-space score 0.9): it competes with the rescored ones by the new space;
      // a rescored entry for a migrated document, or for one outside the old list, is ignored.
      const some = fuseResults({ ...input(method, primary, ['m1'], ['m1']), rescored });
      expect(ids(some)).toEqual(['u3', 'm1', 'u2', 'u1']);
      expect(some.find((h) => h.sourceId === 'u3')?.namespace).toBe('old');
    }
  });

  it('handles empty lists', () => {
    for (const method of COVERAGE_AWARE) {
      expect(fuseResults(input(method, [], [], []))).toEqual([]);
      expect(ids(fuseResults(input(method, [], ['m1', 'm2'], ['m1', 'm2'])))).toEqual(['m1', 'm2']);
      expect(ids(fuseResults(input(method, ['u1'], [], [])))).toEqual(['u1']);
    }
  });
});
