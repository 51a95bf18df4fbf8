import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleCoverage } from '../../src/report/coverage.js';
import { sampleRatio } from '../../src/report/data.js';
import { corpus, hashing, tempApp } from '../migration/helpers.js';

let t: Awaited<ReturnType<typeof tempApp>>;
const docs = corpus(30, 3);

beforeEach(async () => {
  t = await tempApp();
  await t.app.addSpace(hashing('v1', 1));
  await t.app.createCollection('docs', 'v1');
  await t.app.ingest('docs', docs.slice(0, 20));
});
afterEach(() => t.cleanup());

const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 1, 12, minute));

describe('sampleCoverage', () => {
  it('records one sample per live namespace and skips an unchanged one inside the interval', async () => {
    const first = await sampleCoverage(t.app, { now: at(0) });
    expect(first).toMatchObject({ recorded: 1, stored: true });
    expect(first.samples).toEqual([
      { namespace: 'docs@v1', collection: 'docs', at: at(0).toISOString(), live: 20, current: 20, stale: 0 },
    ]);
    expect((await sampleCoverage(t.app, { now: at(10) })).recorded).toBe(0);
    expect((await sampleCoverage(t.app, { now: at(61) })).recorded).toBe(1);
    expect((await sampleCoverage(t.app, { now: at(62), unchangedIntervalMs: 0 })).recorded).toBe(1);

    // A namespace that lags the source: a new space's namespace with nothing backfilled yet.
    await t.app.createNamespace('docs', await t.app.addSpace(hashing('v2', 2)), 'active');
    await t.app.ingest('docs', docs.slice(20));
    const changed = await sampleCoverage(t.app, { now: at(63), collection: 'docs' });
    expect(changed.recorded).toBe(2);
    const v2 = changed.samples.find((s) => s.namespace === 'docs@v2');
    expect(v2 && [v2.live, v2.current, sampleRatio(v2)]).toEqual([30, 10, 1 / 3]);

    const repository = t.app.backend.coverageSamples ?? null;
    const v1 = await repository?.read({ namespace: 'docs@v1' });
    expect(v1?.map((s) => [s.at.slice(11, 16), s.current])).toEqual([
      ['12:00', 20],
      ['13:01', 20],
      ['13:02', 20],
      ['13:03', 30],
    ]);
    expect((await repository?.read({ since: at(63) }))?.length).toBe(2);
    expect([...((await repository?.latest('docs')) ?? new Map()).values()].map((s) => s.at)).toEqual([
      at(63).toISOString(),
      at(63).toISOString(),
    ]);
    expect(await repository?.prune(at(62))).toBe(2);
    expect((await repository?.read())?.length).toBe(3);
  });

  it('measures without storing when told to, and refuses an unknown collection', async () => {
    const sampling = await sampleCoverage(t.app, { repository: null });
    expect(sampling).toMatchObject({ recorded: 0, stored: false });
    expect(sampling.samples).toHaveLength(1);
    expect(await t.app.backend.coverageSamples?.read()).toEqual([]);
    await expect(sampleCoverage(t.app, { collection: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
