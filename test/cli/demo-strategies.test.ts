import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoveragePoint } from '../../src/cli/demo/migration-state.js';
import type { TimelineEvent } from '../../src/cli/demo/timeline.js';
import type { StepReport } from '../../src/cli/demo/types.js';
import { type CliRun, parseJson, runCli, tempDir } from './helpers.js';

interface DemoJson {
  db: { backend: string; schema?: string; temporary: boolean; kept: boolean };
  steps: StepReport[];
  results: { row: string; metrics: Record<string, number> }[];
  migration: {
    strategy: string;
    state: string;
    from: string;
    to: string;
    plan: { documents: number; toEmbed: number; tokens: number; gates: string[] };
    points: CoveragePoint[];
    gates: { rule: string; passed: boolean }[];
    retirement: { early: { status: string } | null; namespaceState: string };
    fusion: string | null;
    reembeddedOnRead: number;
  };
  timeline: TimelineEvent[];
}

const SMALL = ['--docs', '300', '--queries', '30', '--dimension', '64', '--traffic', '20'];
const PART_2 = ['migrate-plan', 'migrate-start', 'migrate-backfill', 'migrate-validate', 'cutover', 'retire'];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('reembed-demo-strategy-')));
afterEach(() => cleanup());

function demoJson(run: CliRun): DemoJson {
  expect(run.code, run.stderr || run.stdout).toBe(0);
  return parseJson<DemoJson>(run);
}

/** Index of the first timeline event matching, after `from`; -1 if none. */
function indexOf(timeline: TimelineEvent[], test: (e: TimelineEvent) => boolean, from = 0): number {
  const i = timeline.slice(from).findIndex(test);
  return i < 0 ? -1 : i + from;
}

/** The story every strategy must tell: started → cutover → retired, in this order, with live traffic throughout. */
function expectFullStory(doc: DemoJson, strategy: string): void {
  expect(doc.steps.every((s) => s.status === 'done')).toBe(true);
  expect(doc.steps.slice(-PART_2.length).map((s) => s.name)).toEqual(PART_2);
  const m = doc.migration;
  expect(m).toMatchObject({ strategy, state: 'retired', from: 'docs@v1-hashing', to: 'docs@v2-lsa' });
  expect(m.plan).toMatchObject({ documents: 300, toEmbed: 300 });
  expect(m.plan.tokens).toBeGreaterThan(0);

  const t = doc.timeline;
  const started = indexOf(t, (e) => e.event === 'transition' && e.state === 'backfilling');
  const cutover = indexOf(t, (e) => e.event === 'cutover', started);
  const retired = indexOf(t, (e) => e.event === 'transition' && e.state === 'retired', cutover);
  expect([started, cutover, retired].every((i) => i >= 0)).toBe(true);
  expect(started).toBeLessThan(cutover);
  // Elapsed times never go backwards; the rollback window passed on the simulated clock only.
  for (let i = 1; i < t.length; i++) expect(t[i]?.at).toBeGreaterThanOrEqual(t[i - 1]?.at as number);
  expect(t[retired]?.simulated).toBeGreaterThanOrEqual(3600);
  expect(m.retirement).toMatchObject({ early: { status: 'kept' }, namespaceState: 'retired' });

  // Live queries were answered at every stage, none failed, none mixed two spaces without fusion.
  expect(m.points.length).toBeGreaterThanOrEqual(7);
  for (const p of m.points) expect(p.traffic).toMatchObject({ queries: 20, errors: 0, mixedVersion: 0 });
  const coverage = m.points.map((p) => p.coverage);
  expect(coverage).toEqual([...coverage].sort((a, b) => a - b));
  expect(m.gates.length).toBeGreaterThan(0);
  expect(m.gates.every((g) => g.passed)).toBe(true);

  // After cutover the alias serves exactly what clean v2 scored in part 1.
  const clean = doc.results.find((r) => r.row === 'clean-v2')?.metrics as Record<string, number>;
  const after = m.points.find((p) => p.label === 'after cutover');
  expect(after?.routing).toBe('single');
  expect(after?.served['ndcg@10']).toBeCloseTo(clean['ndcg@10'] as number, 2);
  expect(after?.served['recall@10']).toBeCloseTo(clean['recall@10'] as number, 2);
}

function intermediate(doc: DemoJson): CoveragePoint[] {
  return doc.migration.points.filter((p) => p.coverage > 0 && p.coverage < 1);
}

describe('reembed demo --strategy', () => {
  it('shadow (the default): serves v1 throughout, agreement measured on shadow reads, then cuts over', async () => {
    const doc = demoJson(await runCli(['--db', join(dir, 'd.db'), 'demo', ...SMALL, '--json'], dir));
    expectFullStory(doc, 'shadow');
    const before = doc.migration.points.filter((p) => p.label !== 'after cutover');
    const v1 = doc.results.find((r) => r.row === 'clean-v1')?.metrics['ndcg@10'] as number;
    for (const p of before) {
      expect(p.routing).toBe('shadow');
      expect(p.served['ndcg@10']).toBeCloseTo(v1, 6);
    }
    expect(intermediate(doc).length).toBeGreaterThanOrEqual(3);
    expect(before.reduce((n, p) => n + p.traffic.shadow.samples, 0)).toBeGreaterThan(0);
    // Agreement grows with coverage: the empty shadow agrees with nothing.
    const first = before[0];
    const last = before[before.length - 1];
    expect(first?.traffic.shadow.overlap ?? 0).toBeLessThan(last?.traffic.shadow.overlap ?? 0);
    expect(doc.migration.plan.gates).toContain('shadow.samples >= 20');
  }, 30_000);

  it('lazy: fused reads re-embed what they serve, so coverage grows from traffic alone', async () => {
    const doc = demoJson(
      await runCli(['--db', join(dir, 'd.db'), 'demo', ...SMALL, '--strategy', 'lazy', '--json'], dir),
    );
    expectFullStory(doc, 'lazy');
    const [zero] = doc.migration.points;
    // The 0% stage runs no backfill: its coverage comes from re-embed on read.
    expect(zero?.backfilled).toBe(0);
    expect(zero?.traffic.reembeds).toBeGreaterThan(0);
    expect(zero?.coverage).toBeGreaterThan(0);
    expect(zero?.traffic.fused).toBe(20);
    expect(doc.migration.reembeddedOnRead).toBeGreaterThan(0);
    // Embed-on-read belongs to the coverage-aware fusion methods (the default).
    expect(doc.migration.fusion).toMatch(/^coverage-aware-/);
    expect(intermediate(doc).length).toBeGreaterThanOrEqual(2);
    // Fusion beats serving v1 alone once part of the corpus is in v2.
    const v1 = doc.results.find((r) => r.row === 'clean-v1')?.metrics['ndcg@10'] as number;
    expect(zero?.served['ndcg@10']).toBeGreaterThan(v1);
  }, 30_000);

  it('progressive: the traffic share follows coverage up to 100% before cutover', async () => {
    const doc = demoJson(
      await runCli(['--db', join(dir, 'd.db'), 'demo', ...SMALL, '--strategy', 'progressive', '--json'], dir),
    );
    expectFullStory(doc, 'progressive');
    const percents = doc.migration.points.map((p) => p.rollout?.percent ?? -1);
    expect(percents[0]).toBe(0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(doc.migration.points.some((p) => p.label === 'rollout 100%')).toBe(true);
    expect(doc.timeline.filter((e) => e.event === 'rollout').length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('blue-green: builds offline, no query reads the new namespace before cutover (human output)', async () => {
    const run = await runCli(['demo', ...SMALL, '--strategy', 'blue-green'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/TIMELINE — blue-green migration of alias docs/);
    expect(run.stdout).toMatch(/cutover +gates checked again, then alias docs → docs@v2-lsa/);
    expect(run.stdout).toMatch(/retiring → retired/);
    expect(run.stdout).toMatch(/backfill 50% +backfilling +single +\d+\.\d%/);
    const json = demoJson(
      await runCli(['--db', join(dir, 'd.db'), 'demo', ...SMALL, '--strategy', 'blue-green', '--json'], dir),
    );
    expectFullStory(json, 'blue-green');
    for (const p of json.migration.points.filter((x) => x.label !== 'after cutover'))
      expect(p.traffic.readNew).toBe(0);
  }, 30_000);

  it('--strategy none stops after part 1', async () => {
    const doc = demoJson(
      await runCli(['--db', join(dir, 'd.db'), 'demo', ...SMALL, '--strategy', 'none', '--json'], dir),
    );
    expect(doc.migration).toBeNull();
    expect(doc.steps.map((s) => s.name)).not.toContain('migrate-plan');
  }, 30_000);
});

const PG_URL = process.env.REEMBED_PG_URL;
describe.skipIf(!PG_URL)(
  PG_URL ? 'reembed demo on Postgres' : 'reembed demo on Postgres skipped: set REEMBED_PG_URL',
  () => {
    it('runs the full story in a fresh schema and drops it at the end', async () => {
      const doc = demoJson(
        await runCli(['demo', ...SMALL, '--json'], dir, { REEMBED_PG_URL: PG_URL as string }),
      );
      expect(doc.db).toMatchObject({ backend: 'pg', temporary: true, kept: false });
      expectFullStory(doc, 'shadow');
      const pg = await import('pg');
      const client = new (pg.default ?? pg).Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [doc.db.schema]);
        expect(rows).toEqual([]);
      } finally {
        await client.end();
      }
    }, 60_000);
  },
);
