import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reembed } from '../../src/app/reembed.js';
import { METRIC_NAMES } from '../../src/core/metrics.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { sharedData } from '../../src/testing/shared.js';
import { tempApp } from '../app/helpers.js';
import { runCli } from '../monitor/helpers.js';

const DATA = sharedData('datasets/scifact', 'corpus.jsonl');
const SCIFACT = DATA.path;
const haveScifact = DATA.present;

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;

describe.skipIf(!haveScifact)(DATA.label('reembed eval <alias> on scifact (hashing 256-d)'), () => {
  beforeAll(async () => {
    ctx = await tempApp();
    app = ctx.app;
    await app.addSpace(hashingSpace('hash256', { dimension: 256 }));
    await app.createCollection('scifact', 'hash256');
    const docs = readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const d = JSON.parse(line) as { _id: string | number; title: string; text: string };
        return { id: String(d._id), text: `${d.title}\n${d.text}` };
      });
    for (let i = 0; i < docs.length; i += 1000) await app.ingest('scifact', docs.slice(i, i + 1000));
  }, 60_000);
  afterAll(async () => ctx?.cleanup());

  it('prints every metric at k 1, 5, 10, 100 with latency and skipped counts, and writes nothing', async () => {
    const stats = await app.backend.store.stats('scifact@hash256');
    const heads = await app.backend.store.scanHeads('scifact@hash256', { limit: 10_000 });
    const r = await runCli(ctx.db, [
      'eval',
      'scifact',
      '--golden',
      SCIFACT,
      '--save-as',
      'scifact',
      '--json',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      kind: 'evaluation',
      target: { kind: 'alias', name: 'scifact', collection: 'scifact' },
      golden: { name: 'scifact', queries: 300 },
      ks: [1, 5, 10, 100],
      queries: 300,
      skipped: { noJudgments: 0, noRelevant: 0, judgmentsWithoutQuery: 0 },
      errors: { count: 0 },
      saved: { name: 'scifact', queries: 300, judgments: 339 },
    });
    for (const name of METRIC_NAMES) {
      for (const k of [1, 5, 10, 100]) {
        const value = json.metrics[`${name}@${k}`];
        expect(value, `${name}@${k}`).toBeGreaterThanOrEqual(0);
        expect(value, `${name}@${k}`).toBeLessThanOrEqual(1);
      }
    }
    // Feature hashing is a weak model, but far better than chance (1/5183 documents) on this corpus.
    expect(json.metrics['ndcg@10']).toBeGreaterThan(0.15);
    expect(json.metrics['recall@100']).toBeGreaterThan(json.metrics['recall@10']);
    expect(json.latency.p50).toBeGreaterThan(0);
    expect(json.latency.p99).toBeGreaterThanOrEqual(json.latency.p50);
    expect(await app.backend.store.stats('scifact@hash256')).toEqual(stats);
    expect(await app.backend.store.scanHeads('scifact@hash256', { limit: 10_000 })).toEqual(heads);

    // The stored set gives the same digest and the same numbers.
    const again = await runCli(ctx.db, ['eval', 'scifact', '--golden', 'scifact', '-k', '10', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.golden.digest).toBe(json.golden.digest);
    expect(second.metrics['ndcg@10']).toBeCloseTo(json.metrics['ndcg@10'], 12);
  }, 60_000);
});
