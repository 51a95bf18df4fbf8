import { describe, expect, it } from 'vitest';
import { resolveMigrationOptions } from '../../src/app/migrate-options.js';
import { isReembedError, ReembedError } from '../../src/core/errors.js';
import {
  assertTransition,
  canTransition,
  MIGRATION_STATES,
  MIGRATION_STRATEGIES,
  migrationRouting,
  nextRolloutStep,
  nextState,
  parseDuration,
  rolloutPercentFor,
  STRATEGY_PATHS,
  TERMINAL_STATES,
} from '../../src/core/migration.js';
import { estimate, plannedSteps } from '../../src/core/plan.js';
import { BRIDGED_RERANK_DEPTH } from '../../src/core/routing.js';
import { DEFAULT_BACKFILL } from '../../src/jobs/backfill.js';
import { ContiguousCursor } from '../../src/jobs/contiguous.js';
import { RateLimiter, TokenBucket } from '../../src/jobs/rate-limit.js';
import { classifyFailure, retryDelay } from '../../src/jobs/retry.js';
import { TestClock } from './helpers.js';

describe('migration state machine', () => {
  it.each(MIGRATION_STRATEGIES)('%s walks its whole path, one state at a time', (strategy) => {
    const path = STRATEGY_PATHS[strategy];
    for (let i = 0; i + 1 < path.length; i++) {
      expect(canTransition(strategy, path[i] as never, path[i + 1] as never)).toBe(true);
      expect(nextState(strategy, path[i] as never)).toBe(path[i + 1]);
      // Skipping a state is refused.
      if (i + 2 < path.length)
        expect(canTransition(strategy, path[i] as never, path[i + 2] as never)).toBe(false);
    }
    expect(nextState(strategy, 'retired')).toBeNull();
  });

  it('allows rollback from every state before retired, and nothing out of a terminal state', () => {
    for (const strategy of MIGRATION_STRATEGIES) {
      for (const state of MIGRATION_STATES) {
        const terminal = TERMINAL_STATES.includes(state);
        expect(canTransition(strategy, state, 'rolled-back')).toBe(!terminal);
        if (terminal)
          for (const to of MIGRATION_STATES) expect(canTransition(strategy, state, to)).toBe(false);
      }
    }
  });

  it('keeps strategy-specific states to their strategy', () => {
    expect(canTransition('shadow', 'validating', 'cut-over')).toBe(false);
    expect(canTransition('shadow', 'validating', 'shadowing')).toBe(true);
    expect(canTransition('progressive', 'validating', 'rolling-out')).toBe(true);
    expect(canTransition('progressive', 'validating', 'shadowing')).toBe(false);
    expect(canTransition('blue-green', 'validating', 'rolling-out')).toBe(false);
    expect(canTransition('lazy', 'validating', 'cut-over')).toBe(true);
    // The loop back to backfilling, for gaps found late.
    expect(canTransition('shadow', 'shadowing', 'backfilling')).toBe(true);
    expect(canTransition('blue-green', 'cut-over', 'backfilling')).toBe(false);
  });

  it('names the allowed states when it refuses', () => {
    let error: unknown;
    try {
      assertTransition({ id: 'm1', strategy: 'shadow', state: 'backfilling' }, 'cut-over');
    } catch (e) {
      error = e;
    }
    expect(isReembedError(error, 'INVALID_TRANSITION')).toBe(true);
    expect((error as Error).message).toContain('It can go to: validating, rolled-back.');
  });

  it('routes the alias per strategy', () => {
    const options = resolveMigrationOptions('lazy', { sampleRate: 0.3, fusion: { method: 'rrf', rrfK: 20 } });
    const m = { from: 'docs@v1', to: 'docs@v2', options };
    expect(migrationRouting({ ...m, strategy: 'blue-green' })).toBeNull();
    expect(migrationRouting({ ...m, strategy: 'shadow' })).toEqual({
      kind: 'shadow',
      primary: 'docs@v1',
      shadow: 'docs@v2',
      sampleRate: 0.3,
    });
    expect(migrationRouting({ ...m, strategy: 'progressive' }, { percent: 25, tenants: ['t1'] })).toEqual({
      kind: 'split',
      primary: 'docs@v1',
      next: 'docs@v2',
      percent: 25,
      tenants: ['t1'],
    });
    expect(migrationRouting({ ...m, strategy: 'lazy' })).toEqual({
      kind: 'fused',
      primary: 'docs@v1',
      next: 'docs@v2',
      fusion: { method: 'rrf', rrfK: 20 },
    });
  });

  it('never gives more traffic than coverage', () => {
    expect(rolloutPercentFor([10, 25, 50, 100], 0.09)).toBe(0);
    expect(rolloutPercentFor([10, 25, 50, 100], 0.3)).toBe(25);
    expect(rolloutPercentFor([10, 25, 50, 100], 1)).toBe(100);
    expect(nextRolloutStep([10, 25, 50, 100], 25)).toBe(50);
    expect(nextRolloutStep([10, 25, 50, 100], 100)).toBe(100);
  });

  it('parses durations and refuses nonsense', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('0s')).toBe(0);
    expect(() => parseDuration('7 days')).toThrow(/7d, 36h/);
  });

  it('validates options at the boundary with defaults per strategy', () => {
    // Without a judged set the quality gates read a probe (built at start); progressive gets them too.
    expect(resolveMigrationOptions('shadow').gates).toEqual([
      'coverage >= 1.0',
      'errors == 0',
      'shadow.samples >= 20',
      'shadow.overlap >= 0.05',
      'probe.mrr@10 >= old - 0.01',
      'probe.recall@10 >= old - 0.02',
    ]);
    expect(resolveMigrationOptions('progressive').gates).toEqual([
      'coverage >= 1.0',
      'errors == 0',
      'probe.mrr@10 >= old - 0.01',
      'probe.recall@10 >= old - 0.02',
    ]);
    expect(resolveMigrationOptions('progressive').defaultGates).toBe(true);
    const judged = resolveMigrationOptions('blue-green', { golden: 'g.jsonl' });
    expect(judged.gates).toContain('ndcg@10 >= old - 0.01');
    expect(judged.gates.some((g) => g.startsWith('probe.'))).toBe(false);
    expect(resolveMigrationOptions('lazy', { probe: false }).gates).toEqual([
      'coverage >= 1.0',
      'errors == 0',
      'quality.measured >= 1',
    ]);
    const explicit = resolveMigrationOptions('shadow', { gates: ['coverage >= 1.0'] });
    expect([explicit.gates, explicit.defaultGates]).toEqual([['coverage >= 1.0'], false]);
    expect(() => resolveMigrationOptions('progressive', { steps: [50, 25, 100] })).toThrow(
      /steps must increase/,
    );
    expect(() => resolveMigrationOptions('progressive', { steps: [10, 50] })).toThrow(
      /last step must be 100/,
    );
    expect(() => resolveMigrationOptions('lazy', { fusion: { method: 'raw' } })).toThrow(/fusion.method/);
    expect(() => resolveMigrationOptions('lazy', { rollbackWindow: 'forever' })).toThrow(/rollbackWindow/);
    expect(() => resolveMigrationOptions('lazy', { backfil: {} })).toThrow(/Unrecognized key/);
    expect(() => resolveMigrationOptions('blue-green', { gates: ['ndcg@10 >>= 1'] })).toThrow(
      /does not parse/,
    );
  });

  it("a bridged lazy migration re-ranks the bridge's top 30 on read unless told otherwise", () => {
    const bridge = { direction: 'corpus' as const };
    expect(resolveMigrationOptions('lazy').fusion).toEqual({ method: 'coverage-aware-score' });
    expect(resolveMigrationOptions('lazy', { bridge }).fusion).toEqual({
      method: 'coverage-aware-score',
      rerankDepth: BRIDGED_RERANK_DEPTH,
    });
    expect(
      resolveMigrationOptions('lazy', { bridge, fusion: { method: 'coverage-aware-score', rerankDepth: 50 } })
        .fusion.rerankDepth,
    ).toBe(50);
    // Nothing is embedded on read: no depth to default.
    expect(
      resolveMigrationOptions('lazy', {
        bridge,
        fusion: { method: 'coverage-aware-score', embedOnRead: false },
      }).fusion,
    ).toEqual({ method: 'coverage-aware-score', embedOnRead: false });
    expect(resolveMigrationOptions('progressive', { bridge }).fusion.rerankDepth).toBeUndefined();
    expect(() =>
      resolveMigrationOptions('lazy', { fusion: { method: 'coverage-aware-score', rerankDepth: 0 } }),
    ).toThrow(/fusion.rerankDepth/);
  });
});

describe('plan estimates', () => {
  const settings = { ...DEFAULT_BACKFILL, batchSize: 100, concurrency: 4 };
  const base = {
    strategy: 'shadow' as const,
    documents: 10_000,
    alreadyCurrent: 0,
    chunks: 10_000,
    tokens: 2_000_000,
    pricePerMillionTokens: 0.13,
    settings,
    batchLatencyMs: 400,
    latencySource: 'measured' as const,
  };

  it('prices tokens and times the backfill by latency × concurrency', () => {
    const e = estimate(base);
    expect(e.costUsd).toBeCloseTo(0.26, 10);
    expect(e.batches).toBe(100);
    expect(e.seconds).toBeCloseTo(10, 10); // 100 batches / 4 at a time × 0.4 s
    expect(e.bottleneck).toBe('latency');
    expect(e.steps.map((s) => s.state)).toEqual([
      'backfilling',
      'validating',
      'shadowing',
      'cut-over',
      'retiring',
    ]);
  });

  it('is bounded by the tighter rate limit, and counts nothing already current', () => {
    expect(estimate({ ...base, settings: { ...settings, requestsPerMinute: 60 } })).toMatchObject({
      seconds: 100,
      bottleneck: 'requests',
    });
    expect(estimate({ ...base, settings: { ...settings, tokensPerMinute: 600_000 } })).toMatchObject({
      seconds: 200,
      bottleneck: 'tokens',
    });
    expect(estimate({ ...base, alreadyCurrent: 9_000 })).toMatchObject({ toEmbed: 1_000, batches: 10 });
    expect(plannedSteps('lazy', 5)[0]?.action).toContain('re-embed 5 document(s)');
  });
});

describe('backfill building blocks', () => {
  it('checkpoints only the highest contiguous completed batch', () => {
    const c = new ContiguousCursor('scan:', 0);
    expect(c.preview([{ seq: 1, cursor: 'scan:b', scanned: 10 }])).toBeNull(); // batch 0 still in flight
    c.complete(1, 'scan:b', 10);
    c.complete(2, 'scan:c', 10);
    expect(c.cursor).toBe('scan:');
    expect(c.ahead).toBe(2);
    expect(c.preview([{ seq: 0, cursor: 'scan:a', scanned: 10 }])).toEqual({
      cursor: 'scan:c',
      processed: 30,
    });
    // A group commit of batches 0 and 3 moves the prefix through 3 (1 and 2 are already done).
    expect(
      c.preview([
        { seq: 3, cursor: 'scan:d', scanned: 5 },
        { seq: 0, cursor: 'scan:a', scanned: 10 },
      ]),
    ).toEqual({ cursor: 'scan:d', processed: 35 });
    expect(c.preview([{ seq: 4, cursor: 'scan:e', scanned: 5 }])).toBeNull();
    c.complete(0, 'scan:a', 10);
    expect([c.cursor, c.processed, c.ahead]).toEqual(['scan:c', 30, 0]);
  });

  it('limits requests and tokens per minute with a token bucket', async () => {
    const clock = new TestClock();
    const start = clock.ms;
    const limiter = new RateLimiter({ requestsPerMinute: 120, tokensPerMinute: null }, clock);
    for (let i = 0; i < 10; i++) await limiter.acquire(1, 0);
    // 2 requests/s with a one-second burst: the 10th request starts after ~4 s.
    expect((clock.ms - start) / 1000).toBeCloseTo(4, 0);
    const tokens = new TokenBucket(6_000, clock); // 100 tokens/s
    const t0 = clock.ms;
    await tokens.take(1_000); // larger than the bucket: borrows
    await tokens.take(100);
    expect((clock.ms - t0) / 1000).toBeGreaterThanOrEqual(9.9);
  });

  it('classifies failures and honours retry hints', () => {
    expect(classifyFailure(new ReembedError('EMBEDDER_TRANSIENT', 'x'))).toBe('transient');
    expect(classifyFailure(new ReembedError('RATE_LIMITED', 'x'))).toBe('transient');
    expect(classifyFailure(new ReembedError('INVALID_VECTOR', 'x'))).toBe('item');
    expect(classifyFailure(new ReembedError('DIMENSION_MISMATCH', 'x'))).toBe('item');
    expect(classifyFailure(new ReembedError('SPACE_MISMATCH', 'x'))).toBe('fatal');
    expect(classifyFailure(new TypeError('fetch failed'))).toBe('transient');
    const policy = { maxRetries: 3, baseMs: 100, capMs: 10_000 };
    const hinted = new ReembedError('RATE_LIMITED', 'x', { details: { retryAfterMs: 2_500 } });
    expect(retryDelay(policy, 0, hinted, () => 0.5)).toBe(2_500);
    expect(retryDelay(policy, 3, new Error('x'), () => 0.5)).toBe(400);
    expect(retryDelay(policy, 20, new Error('x'), () => 0.999)).toBeLessThan(10_000);
  });
});
