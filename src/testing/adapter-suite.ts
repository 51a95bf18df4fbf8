import { expect, it } from 'vitest';
import { type Adapter, defineAdapter, mapBytes, mapSha256 } from '../core/adapter.js';
import type { AffineMap } from '../core/adapter-fit.js';
import { adapterEvaluation } from '../core/adapter-gate.js';
import type { AdapterRepository } from '../ports/adapters.js';
import type { Catalog } from '../ports/catalog.js';
import { expectCode } from './fixtures.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface AdapterHarness {
  readonly adapters: AdapterRepository;
  readonly catalog: Catalog;
  /** Overwrites the stored weights of an adapter behind the repository's back (a corrupted row). */
  corruptWeights(fingerprint: string, bytes: Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

export type AdapterSuiteOptions = SuiteOptions<AdapterHarness>;

function map(seed: number, input = 3, output = 2): AffineMap {
  return {
    inputDimension: input,
    outputDimension: output,
    weights: Float32Array.from({ length: input * output }, (_, i) => Math.sin(seed + i)),
    bias: Float32Array.from({ length: output }, (_, i) => Math.cos(seed + i)),
  };
}

function adapter(name: string, m: AffineMap, documents = 40): Adapter {
  return defineAdapter(
    name,
    {
      collection: 'docs',
      direction: 'query',
      source: { name: 'new', fingerprint: 'sp_0000000000000002', dimension: m.inputDimension },
      target: { name: 'old', fingerprint: 'sp_0000000000000001', dimension: m.outputDimension },
      method: 'ridge',
      params: { lambda: 0.01 },
      normalise: true,
      training: { documents, probes: 0, seed: 1, collectionVersion: 7, sampleSha256: 'a'.repeat(64) },
      weightsSha256: mapSha256(m),
    },
    {
      criterion: 'retrieval',
      heldOutScore: 0.5,
      candidates: [{ method: 'ridge', params: { lambda: 0.01 }, heldOutScore: 0.5 }],
      pairs: { fit: 32, heldOut: 8 },
      seconds: 0.1,
    },
    '2026-01-01T00:00:00.000Z',
  );
}

const evaluation = (fp: string, passed: boolean) =>
  adapterEvaluation({
    adapter: fp,
    at: '2026-01-02T00:00:00.000Z',
    set: { kind: 'golden', name: 'g', queries: 10 },
    metric: 'ndcg@10',
    reason: 'eval',
    facts: { 'bridged.ndcg@10': passed ? 0.6 : 0.2, 'old.ndcg@10': 0.5, 'alone.ndcg@10': 0.1 },
    oldSource: 'measured',
    rules: ['bridged.ndcg@10 >= old.ndcg@10 - 0.01'],
    notes: [],
  });

/**
 * The conformance suite of adapter repositories: artifacts are immutable and integrity-checked, names
 * unique, evaluations append-only, state moves only fitted → passed (on a pass) and → revoked (explicitly),
 * and every change is audited with its actor (invariant 8).
 */
export function testAdapterRepository(options: AdapterSuiteOptions): void {
  describeSuite('Adapter repository conformance', options, (h) => {
    it('stores an adapter once (idempotent), by name and fingerprint, with its map and sample', async () => {
      const m = map(1);
      const a = adapter('a.1', m);
      const saved = await h.adapters.save({ adapter: a, weights: mapBytes(m), sample: ['x', 'y'] }, 'alice');
      expect(saved.state).toBe('fitted');
      expect(saved.latest).toBeNull();
      expect(
        (await h.adapters.save({ adapter: a, weights: mapBytes(m), sample: ['x', 'y'] }, 'alice')).adapter,
      ).toEqual(a);
      expect((await h.adapters.get(a.fingerprint)).adapter).toEqual(a);
      const loaded = await h.adapters.load('a.1');
      expect([...loaded.map.weights]).toEqual([...m.weights]);
      expect([...loaded.map.bias]).toEqual([...m.bias]);
      expect(await h.adapters.sample('a.1')).toEqual(['x', 'y']);
      expect(await h.adapters.nextVersion('docs', 'sp_0000000000000002', 'sp_0000000000000001')).toBe(2);
      expect((await h.catalog.listAudit({ subject: 'a.1' })).map((e) => [e.action, e.actor])).toEqual([
        ['adapter.fit', 'alice'],
      ]);
    });

    it('refuses a taken name, weights that are not the adapter’s, and an unknown adapter', async () => {
      const m = map(1);
      await h.adapters.save({ adapter: adapter('a.1', m), weights: mapBytes(m), sample: [] }, 'alice');
      const other = map(2);
      await expectCode(
        h.adapters.save({ adapter: adapter('a.1', other), weights: mapBytes(other), sample: [] }, 'bob'),
        'ALREADY_EXISTS',
      );
      await expectCode(
        h.adapters.save({ adapter: adapter('b.1', m), weights: mapBytes(other), sample: [] }, 'bob'),
        'INTEGRITY_FAILED',
      );
      const missing = await expectCode(h.adapters.get('nope'), 'NOT_FOUND');
      expect(missing.message).toContain('a.1');
    });

    it('detects weights changed behind its back', async () => {
      const m = map(1);
      const a = adapter('a.1', m);
      await h.adapters.save({ adapter: a, weights: mapBytes(m), sample: [] }, 'alice');
      await h.corruptWeights(a.fingerprint, mapBytes(map(3)));
      await expectCode(h.adapters.load('a.1'), 'INTEGRITY_FAILED');
    });

    it('keeps evaluations append-only; only a pass moves fitted → passed, and revocation is explicit', async () => {
      const m = map(1);
      const a = adapter('a.1', m);
      await h.adapters.save({ adapter: a, weights: mapBytes(m), sample: [] }, 'alice');
      expect((await h.adapters.addEvaluation('a.1', evaluation(a.fingerprint, false), 'alice')).state).toBe(
        'fitted',
      );
      expect((await h.adapters.addEvaluation('a.1', evaluation(a.fingerprint, true), 'alice')).state).toBe(
        'passed',
      );
      // A failing (drift) evaluation after a pass is recorded but does not change the state.
      const drift = await h.adapters.addEvaluation('a.1', evaluation(a.fingerprint, false), 'monitor');
      expect(drift.state).toBe('passed');
      expect(drift.latest?.passed).toBe(false);
      expect((await h.adapters.evaluations('a.1')).map((e) => e.passed)).toEqual([false, true, false]);
      const revoked = await h.adapters.revoke('a.1', 'recovery fell', 'bob');
      expect(revoked.state).toBe('revoked');
      await expectCode(h.adapters.revoke('a.1', 'again', 'bob'), 'INVALID_STATE');
      expect((await h.adapters.addEvaluation('a.1', evaluation(a.fingerprint, true), 'alice')).state).toBe(
        'revoked',
      );
      const actions = (await h.catalog.listAudit({ subject: 'a.1' })).map((e) => e.action);
      expect(actions.filter((x) => x === 'adapter.evaluate')).toHaveLength(4);
      expect(actions).toContain('adapter.revoke');
    });
  });
}
