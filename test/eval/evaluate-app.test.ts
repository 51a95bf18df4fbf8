import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlias, evaluateMigration, evaluateNamespace, perQueryRows } from '../../src/app/evaluate.js';
import { resolveMigrationOptions } from '../../src/app/migrate-options.js';
import type { Reembed } from '../../src/app/reembed.js';
import { evaluateGates } from '../../src/core/gates.js';
import { type GoldenSet, GoldenSetBuilder } from '../../src/core/golden.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import { tempApp } from '../app/helpers.js';
import { runCli } from '../monitor/helpers.js';

// Twelve documents on distinct topics; each query shares its topic's words, so both hashing spaces find it.
const TOPICS = [
  'glacier ice melting arctic climate',
  'violin orchestra symphony concert',
  'volcano lava eruption magma',
  'basketball dribble court hoop',
  'sourdough bread yeast oven',
  'satellite orbit rocket launch',
  'coral reef ocean fish',
  'chess opening gambit endgame',
  'vaccine immune antibody virus',
  'bitcoin blockchain ledger mining',
  'tomato garden compost soil',
  'pyramid pharaoh egypt tomb',
];
const DOCS = TOPICS.map((t, i) => ({
  id: `d${i}`,
  text: `${t} ${t.split(' ').reverse().join(' ')} notes number ${i}`,
}));

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
let golden: GoldenSet;
let goldenFile: string;
const v1 = hashingSpace('v1', { dimension: 128, seed: 1 });
const v2 = hashingSpace('v2', { dimension: 128, seed: 2, ngrams: 2 });

beforeAll(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.createNamespace('docs', v2, 'active');
  await app.ingest('docs', DOCS);
  const b = new GoldenSetBuilder('topics');
  const lines: string[] = [];
  TOPICS.forEach((t, i) => {
    const text = t.split(' ').slice(0, 3).join(' ');
    b.addQuery(`q${i}`, text);
    b.addJudgment(`q${i}`, `d${i}`, 1);
    lines.push(JSON.stringify({ id: `q${i}`, query: text, relevant: [`d${i}`] }));
  });
  golden = b.build();
  goldenFile = join(ctx.dir, 'topics.jsonl');
  writeFileSync(goldenFile, `${lines.join('\n')}\n`);
});
afterAll(async () => ctx.cleanup());

async function snapshot(): Promise<unknown> {
  return Promise.all([
    app.backend.store.stats('docs@v1'),
    app.backend.store.stats('docs@v2'),
    app.backend.store.scanHeads('docs@v1', { limit: 100 }),
  ]);
}

describe('evaluating through the library', () => {
  it('scores an alias and a namespace, and never writes to a namespace', async () => {
    const before = await snapshot();
    const alias = await evaluateAlias(app, 'docs', golden, { ks: [1, 10] });
    expect(alias.target).toEqual({ kind: 'alias', name: 'docs', collection: 'docs' });
    expect(alias.metrics['recall@10']).toBe(1);
    expect(alias.metrics['mrr@10']).toBeGreaterThan(0.9);
    const ns = await evaluateNamespace(app, 'docs@v2', golden, { ks: [1, 10], exact: true });
    expect(ns.target.kind).toBe('namespace');
    expect(ns.metrics['recall@10']).toBe(1);
    expect(ns.annRecall).toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  it('compares old and new with significance, recalibrates a threshold and yields gate facts', async () => {
    const m = await evaluateMigration(app, { old: 'docs@v1', new: 'docs@v2' }, golden, {
      ks: [1, 10],
      threshold: 0.3,
      iterations: 500,
    });
    expect(Object.keys(m.comparisons).sort()).toEqual(
      ['mrr@1', 'mrr@10', 'ndcg@1', 'ndcg@10', 'precision@1', 'precision@10', 'recall@1', 'recall@10'].sort(),
    );
    const c = m.comparisons['ndcg@10'];
    expect(c?.meanDiff).toBeCloseTo((c?.new ?? 0) - (c?.old ?? 0), 12);
    expect(c?.n).toBe(12);
    expect(c?.pValue).toBeGreaterThan(0);
    expect(c?.pValue).toBeLessThanOrEqual(1);
    expect(m.recalibration).toMatchObject({
      kind: 'threshold-recalibration',
      oldThreshold: 0.3,
      oldSamples: 120,
      newSamples: 120,
    });
    expect(Number.isFinite(m.recalibration?.newThreshold)).toBe(true);
    expect(m.facts['old.ndcg@10']).toBe(m.old.metrics['ndcg@10']);
    expect(m.facts['new.eval_errors']).toBe(0);
    expect(evaluateGates(['ndcg@10 >= old - 0.5'], m.facts)[0]?.passed).toBe(true);
    const rows = perQueryRows(m);
    expect(rows).toHaveLength(12);
    expect(rows[0]).toMatchObject({
      queryId: 'q0',
      old: { namespace: 'docs@v1' },
      new: { namespace: 'docs@v2' },
    });
  });

  it('reads both sides of a stored migration', async () => {
    const migrations = app.backend.migrations;
    if (!migrations) throw new Error('the SQLite backend keeps migrations');
    await migrations.create(
      {
        id: 'mig-1',
        collection: 'docs',
        alias: 'docs',
        from: 'docs@v1',
        to: 'docs@v2',
        strategy: 'blue-green',
        options: resolveMigrationOptions('blue-green'),
      },
      'test',
    );
    const m = await evaluateMigration(app, { migration: 'mig-1' }, golden, { ks: [10], iterations: 200 });
    expect(m.migration).toBe('mig-1');
    expect([m.old.target.name, m.new.target.name]).toEqual(['docs@v1', 'docs@v2']);
  });
});

describe('reembed eval on a small collection', () => {
  it('--namespace --json with --per-query, then --old/--new with --threshold', async () => {
    const perQuery = join(ctx.dir, 'per-query.jsonl');
    const one = await runCli(ctx.db, [
      'eval',
      '--namespace',
      'docs@v1',
      '--golden',
      goldenFile,
      '-k',
      '1,10',
      '--per-query',
      perQuery,
      '--json',
    ]);
    expect(one.code, one.stderr + one.stdout).toBe(0);
    const json = JSON.parse(one.stdout);
    expect(json).toMatchObject({
      kind: 'evaluation',
      target: { kind: 'namespace', name: 'docs@v1' },
      ks: [1, 10],
      queries: 12,
    });
    expect(json.perQuery).toBeUndefined();
    const lines = readFileSync(perQuery, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatchObject({ target: 'docs@v1', queryId: 'q0', metrics: { 'recall@10': 1 } });

    const both = await runCli(ctx.db, [
      'eval',
      '--old',
      'docs@v1',
      '--new',
      'docs@v2',
      '--golden',
      goldenFile,
      '-k',
      '10',
      '--threshold',
      '0.3',
      '--iterations',
      '200',
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/old docs@v1 vs new docs@v2/);
    expect(both.stdout).toMatch(/ndcg@10\s+[\d.]+\s+[\d.]+\s+[+-][\d.]+\s+[\d.]+\s+\[/);
    expect(both.stdout).toMatch(/threshold 0\.3 in the old space ≈ [\d.-]+ in the new one/);
  });

  it('bad input: unknown judged documents, empty or duplicate judgments, conflicting targets', async () => {
    const write = (name: string, content: string): string => {
      const file = join(ctx.dir, name);
      writeFileSync(file, content);
      return file;
    };
    const unknown = write('unknown.jsonl', '{"query": "glacier ice", "relevant": ["d0", "ghost-doc"]}\n');
    const r1 = await runCli(ctx.db, ['eval', 'docs', '--golden', unknown]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(
      /judges 1 of 2 documents that collection "docs" does not hold \(e\.g\. "ghost-doc"\)/,
    );
    expect(
      (await runCli(ctx.db, ['eval', 'docs', '--golden', unknown, '--allow-unknown-docs', '-k', '10'])).code,
    ).toBe(0);

    const empty = write('empty.jsonl', '{"query": "x", "relevant": []}\n');
    const r2 = await runCli(ctx.db, ['eval', 'docs', '--golden', empty]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/empty\.jsonl:1: query "1" has no relevant documents/);

    const dup = write(
      'dup.jsonl',
      '{"id": "a", "query": "x", "relevant": ["d0"]}\n{"id": "a", "query": "y", "relevant": ["d1"]}\n',
    );
    expect((await runCli(ctx.db, ['eval', 'docs', '--golden', dup])).stderr).toMatch(
      /dup\.jsonl:2: duplicate query id "a"/,
    );

    const r3 = await runCli(ctx.db, ['eval', 'docs', '--namespace', 'docs@v1', '--golden', goldenFile]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/Evaluate one target/);
    expect(
      (await runCli(ctx.db, ['eval', 'docs', '--golden', goldenFile, '--threshold', '0.5'])).stderr,
    ).toMatch(/--threshold recalibrates/);
    expect((await runCli(ctx.db, ['eval', '--old', 'docs@v1', '--golden', goldenFile])).stderr).toMatch(
      /--old and --new go together/,
    );
    expect((await runCli(ctx.db, ['eval', 'docs', '--golden', 'no-such-set'])).stderr).toMatch(
      /No stored golden set "no-such-set"/,
    );
    expect((await runCli(ctx.db, ['eval', 'docs', '--golden', goldenFile, '-k', '0,x'])).code).toBe(2);
  });
});
