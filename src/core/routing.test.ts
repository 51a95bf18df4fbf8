import { describe, expect, it } from 'vitest';
import { BRIDGED_RERANK_DEPTH, describeRouting, rerankDepthOf } from './routing.js';

describe('describeRouting', () => {
  it('names what every share of queries reads', () => {
    expect(describeRouting({ kind: 'single', namespace: 'docs@v1' })).toBe('all queries: docs@v1');
    expect(describeRouting({ kind: 'shadow', primary: 'docs@v1', shadow: 'docs@v2', sampleRate: 0.1 })).toBe(
      'all queries: docs@v1; 10% also read docs@v2 in shadow (not served)',
    );
    expect(
      describeRouting({
        kind: 'split',
        primary: 'docs@v1',
        next: 'docs@v2',
        percent: 25,
        tenants: ['a', 'b'],
      }),
    ).toBe(
      '25% of queries and tenants a, b: docs@v2, fused with docs@v1 for documents not migrated yet; the rest: docs@v1',
    );
    expect(
      describeRouting({
        kind: 'fused',
        primary: 'docs@v1',
        next: 'docs@v2',
        fusion: { method: 'coverage-aware-score' },
      }),
    ).toBe('all queries: docs@v1 and docs@v2 fused (coverage-aware-score)');
  });

  it('names the bridge, its direction and that the old model is not called', () => {
    const bridge = { adapter: 'ad_0123456789abcdef', direction: 'query' as const };
    expect(
      describeRouting(
        { kind: 'split', primary: 'docs@v1', next: 'docs@v2', percent: 10, tenants: [], bridge },
        'v2-to-v1.1',
      ),
    ).toBe(
      '10% of queries: docs@v2, its not-yet-backfilled part answered through bridge v2-to-v1.1 (query); the rest: bridge v2-to-v1.1 (query) alone — new-model queries mapped into docs@v1; the old model is not called',
    );
    expect(
      describeRouting({
        kind: 'fused',
        primary: 'docs@bridge.x',
        next: 'docs@v2',
        fusion: { method: 'coverage-aware-score' },
        bridge: { ...bridge, direction: 'corpus' },
      }),
    ).toBe(
      'all queries: docs@v2, its not-yet-backfilled part answered through bridge ad_0123456789abcdef (corpus) — docs@bridge.x, old vectors mapped into the new space; native records weigh above bridged ones, the old model is not called',
    );
    expect(
      describeRouting({
        kind: 'fused',
        primary: 'docs@bridge.x',
        next: 'docs@v2',
        fusion: { method: 'coverage-aware-score', rerankDepth: 30 },
        bridge: { ...bridge, direction: 'corpus' },
      }),
    ).toMatch(
      /the old model is not called; each query's top 30 of the bridge not migrated yet is embedded by the new model on read and ranked by it$/,
    );
  });
});

describe('rerankDepthOf', () => {
  it('is k unless the policy asks for a deeper re-rank; never below k', () => {
    expect(rerankDepthOf({ method: 'coverage-aware-score' }, 10)).toBe(10);
    expect(rerankDepthOf({ method: 'coverage-aware-score', rerankDepth: BRIDGED_RERANK_DEPTH }, 10)).toBe(30);
    expect(rerankDepthOf({ method: 'coverage-aware-score', rerankDepth: 30 }, 100)).toBe(100);
  });
});
