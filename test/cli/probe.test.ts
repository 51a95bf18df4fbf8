import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from './helpers.js';

const TOPICS = [
  'Vitamin D deficiency raises the risk of hip fractures in older adults.',
  'Statins lower cholesterol and reduce cardiovascular events in trials.',
  'Aspirin use is linked to fewer colorectal cancers over long follow-up.',
  'Sleep loss impairs memory consolidation in young healthy volunteers.',
];

let dir: string;
let cleanup: () => void;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', join(dir, 'r.db'), ...argv], dir);

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  const lines = Array.from({ length: 100 }, (_, i) =>
    JSON.stringify({
      id: `d${i}`,
      title: `Study ${i} of topic ${i % 4}`,
      text: `${TOPICS[i % 4]} The cohort had ${100 + i} patients in ${['Oslo', 'Lyon'][i % 2]}. Follow-up lasted ${1 + (i % 7)} years with yearly visits.`,
      tenant: i % 10 === 0 ? 'small' : 'big',
    }),
  );
  writeFileSync(join(dir, 'docs.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'tiny.jsonl'), `${lines.slice(0, 12).join('\n')}\n`);
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '128'],
    ['space', 'add', 'v2', '--provider', 'hashing', '--dimension', '128', '--ngrams', '2'],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', 'docs.jsonl'],
    ['collection', 'create', 'tiny', '--space', 'v1'],
    ['ingest', 'tiny', 'tiny.jsonl'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('reembed probe', () => {
  it('creates, shows and evaluates a probe set, always labelled probe', async () => {
    const created = await cli('probe', 'create', 'docs', '--seed', '3', '--size', '40');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      /Probe set probe:docs: 40 queries from 100 live documents of docs \(seed 3/,
    );
    const info = parseJson<{ queries: number; population: { tenants: Record<string, { queries: number }> } }>(
      await cli('probe', 'show', 'probe:docs', '--json'),
    );
    expect(info.queries).toBe(40);
    expect(info.population.tenants.small?.queries).toBe(4);
    const list = await cli('probe', 'show');
    expect(list.stdout).toMatch(/probe:docs\s+docs\s+40\s+3/);
    const human = await cli('probe', 'eval', 'docs');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/namespace docs@v1 on probe:docs \(40 probe queries, not judged/);
    const json = parseJson<{ label: string; metrics: Record<string, number>; target: { name: string } }>(
      await cli('probe', 'eval', 'docs', '--json'),
    );
    expect(json.label).toBe('probe');
    expect(json.target.name).toBe('docs@v1');
    expect(json.metrics['mrr@10']).toBeGreaterThan(0);
    // The same seed over the same collection is the same probe: saving it again is a no-op.
    expect((await cli('probe', 'create', 'docs', '--seed', '3', '--size', '40')).code).toBe(0);
    expect((await cli('probe', 'create', 'docs', '--seed', '4', '--size', '40')).code).toBe(5);
    expect((await cli('probe', 'create', 'docs', '--seed', '4', '--size', '40', '--replace')).code).toBe(0);
  });

  it('says why a collection cannot give a probe, and what the gates then need', async () => {
    const r = await cli('probe', 'create', 'tiny', '--json');
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(r).error).toMatchObject({
      code: 'PROBE_UNAVAILABLE',
      message: expect.stringMatching(/12 live document\(s\); a probe needs at least 50 .*--golden/),
    });
    const plan = parseJson<{
      gates: { rule: string; why: string }[];
      forecast: null;
      probe: { unavailable: string };
    }>(
      await cli('migrate', 'plan', 'tiny', '--to', 'v2', '--strategy', 'blue-green', '--cost-only', '--json'),
    );
    expect(plan.forecast).toBeNull();
    expect(plan.gates.at(-1)).toMatchObject({
      rule: 'quality.measured >= 1',
      why: expect.stringMatching(/no judged set and no probe/),
    });
  });

  it('migrate plan prints the forecast and the gates; migrate replay records a shadow gate in one command', async () => {
    const plan = await cli('migrate', 'plan', 'docs', '--to', 'v2', '--strategy', 'shadow');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(
      /forecast: embedding a sample of 100 documents and 100 probe queries in both spaces/,
    );
    expect(plan.stdout).toMatch(/forecast {3}(go|no-go|inconclusive) \(probe, not judged/);
    expect(plan.stdout).toMatch(/probe\.mrr@10 >= old - 0\.01 +no judged set: probe:docs/);
    const start = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'v2',
      '--strategy',
      'shadow',
      '--keep-queries',
      '100',
    );
    expect(start.stdout).toMatch(/✓ probe +built probe:docs/);
    await cli('migrate', 'step', 'docs');
    await cli('migrate', 'step', 'docs');
    const replay = await cli('migrate', 'replay', 'docs');
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(
      /Replayed 100 queries from probe:docs on docs@v1 and docs@v2: 100 samples recorded/,
    );
    const status = await cli('migrate', 'status', 'docs');
    expect(status.stdout).toMatch(/agreement {2}100 samples/);
    expect(status.stdout).toMatch(/shadow\.samples >= 20/);
  });
});
