import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueryEngine } from '../../src/app/query.js';
import type { Reembed } from '../../src/app/reembed.js';
import { DOCS, hashing, tempApp } from './helpers.js';

/**
 * Observers run after a query's answer is known: one that fails — by throwing, or by returning a promise
 * that rejects — is reported and never costs the caller the answer.
 */
let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let engine: QueryEngine;
let errors: unknown[];
const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  errors = [];
  // The app's backend and embedders behind an engine whose observer failures are collected.
  engine = new QueryEngine(app.backend, app.embedders, { onObserverError: (error) => errors.push(error) });
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', DOCS);
  // docs@v2 holds nothing yet: a fused read finds every hit unmigrated.
  await app.createNamespace('docs', v2, 'active', 'docs@v1');
});
afterEach(async () => ctx.cleanup());

const failing = (label: string) => () => {
  throw new Error(`${label} observer broke`);
};

describe('query observers', () => {
  it('a throwing onQuery observer does not fail the query, and the next observers still run', async () => {
    const seen: number[] = [];
    engine.observe({ onQuery: failing('onQuery') });
    engine.observe({ onQuery: (r) => seen.push(r.hits.length) });
    const { hits } = await engine.query('docs', { text: 'rank fusion', k: 2 });
    expect(hits).toHaveLength(2);
    expect(seen).toEqual([2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['onQuery observer broke']);
  });

  it('a throwing onShadow observer does not fail a shadowed query', async () => {
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      { kind: 'shadow', primary: 'docs@v1', shadow: 'docs@v2', sampleRate: 1 },
      'test',
    );
    engine.observe({ onShadow: failing('onShadow') });
    const { hits, trace } = await engine.query('docs', { text: 'blue-green deployment', k: 2 });
    expect(trace.reads.map((r) => r.role)).toEqual(['served', 'shadow']);
    expect(hits).toHaveLength(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['onShadow observer broke']);
  });

  it('a throwing onUnmigratedHits observer does not fail a fused query', async () => {
    await app.backend.catalog.setAlias(
      'docs',
      'docs',
      { kind: 'fused', primary: 'docs@v1', next: 'docs@v2', fusion: { method: 'coverage-aware-score' } },
      'test',
    );
    engine.observe({ onUnmigratedHits: failing('onUnmigratedHits') });
    const { hits } = await engine.query('docs', { text: 'deleted document backfill tombstone', k: 3 });
    expect(hits).toHaveLength(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['onUnmigratedHits observer broke']);
  });

  it('an observer whose promise rejects is reported, not left as an unhandled rejection', async () => {
    engine.observe({
      onQuery: (async () => {
        throw new Error('async observer broke');
      }) as () => void,
    });
    const { hits } = await engine.query('docs', { text: 'rank fusion', k: 1 });
    expect(hits).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors.map((e) => (e as Error).message)).toEqual(['async observer broke']);
  });

  it('by default a failing observer is a process warning', async () => {
    const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
    const off = app.queries.observe({ onQuery: failing('default') });
    const { hits } = await app.search('docs', { text: 'rank fusion', k: 1 });
    off();
    expect(hits).toHaveLength(1);
    const w = await warning;
    expect(w.name).toBe('ObserverWarning');
    expect(w.message).toContain('default observer broke');
  });
});
