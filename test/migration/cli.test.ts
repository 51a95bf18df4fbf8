import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from './helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  const file = join(dir, 'docs.jsonl');
  writeFileSync(
    file,
    `${corpus(60)
      .map((d) => JSON.stringify(d))
      .join('\n')}\n`,
  );
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'],
    [
      'space',
      'add',
      'v2',
      '--provider',
      'hashing',
      '--dimension',
      '64',
      '--seed',
      '2',
      '--price-per-1m',
      '0.02',
    ],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', file],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('reembed migrate | backfill | retire', () => {
  it('plans, starts, steps, cuts over, rolls back and retires, with --json everywhere', async () => {
    const plan = parseJson<{
      estimate: { documents: number; toEmbed: number; tokens: number; costUsd: number; steps: unknown[] };
    }>(
      await cli(
        'migrate',
        'plan',
        'docs',
        '--to',
        'v2',
        '--strategy',
        'shadow',
        '--sample-rate',
        '1',
        '--json',
      ),
    );
    expect(plan.estimate).toMatchObject({ documents: 60, toEmbed: 60 });
    expect(plan.estimate.costUsd).toBeCloseTo((plan.estimate.tokens / 1e6) * 0.02, 12);
    expect(plan.estimate.steps).toHaveLength(5);

    const start = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'v2',
      '--strategy',
      'shadow',
      '--min-shadow-samples',
      '0',
      '--batch-size',
      '7',
      // 60 short documents give no probe (see the next test): these gates need no quality measure.
      '--gate',
      'coverage >= 1.0',
      '--gate',
      'errors == 0',
      '--json',
    );
    expect(start.code).toBe(0);
    const id = parseJson<{ migration: { id: string; state: string } }>(start).migration.id;
    expect(parseJson<{ migration: { state: string } }>(start).migration.state).toBe('backfilling');

    // Partial backfill through `backfill run`, then the rest through `migrate step`.
    const partial = parseJson<{ status: string; written: number }>(
      await cli('backfill', 'run', 'docs', '--max-batches', '2', '--concurrency', '1', '--json'),
    );
    expect(partial).toMatchObject({ status: 'paused', written: 14 });
    const human = await cli('migrate', 'step', 'docs');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('validating');
    expect(human.stdout).toMatch(/✓ backfill\s+done: 46 written/);
    const status = parseJson<{ migration: { state: string }; coverage: { ratio: number } }>(
      await cli('migrate', 'status', 'docs', '--json'),
    );
    expect(status).toMatchObject({ migration: { state: 'validating' }, coverage: { ratio: 1 } });
    expect((await cli('migrate', 'step', id, '--json')).code).toBe(0);

    const cut = parseJson<{ ok: boolean; migration: { state: string } }>(
      await cli('migrate', 'cutover', 'docs', '--json'),
    );
    expect(cut).toMatchObject({ ok: true, migration: { state: 'retiring' } });
    const dry = parseJson<{ namespaces: { namespace: string; status: string }[] }>(
      await cli('retire', 'run', '--dry-run', '--json'),
    );
    expect(dry.namespaces).toEqual([expect.objectContaining({ namespace: 'docs@v1', status: 'kept' })]);
    const later = new Date(Date.now() + 8 * 86_400_000).toISOString();
    expect(
      parseJson<{ namespaces: { status: string }[] }>(
        await cli('retire', 'run', '--now', later, '--dry-run', '--json'),
      ).namespaces[0]?.status,
    ).toBe('would-retire');

    const back = await cli('migrate', 'rollback', 'docs', '--reason', 'drill', '--json');
    expect(parseJson<{ migration: { state: string } }>(back).migration.state).toBe('rolled-back');
    const search = parseJson<{ trace: { reads: { namespace: string }[] } }>(
      await cli('search', 'docs', 'shadow canary', '--json'),
    );
    expect(search.trace.reads.map((r) => r.namespace)).toEqual(['docs@v1']);
  });

  it('keeps a golden set given by a relative path usable from another directory', async () => {
    const docs = corpus(60);
    writeFileSync(
      join(dir, 'golden.jsonl'),
      `${docs
        .slice(0, 5)
        .map((d) => JSON.stringify({ query: d.text.split(' ').slice(0, 6).join(' '), relevant: [d.id] }))
        .join('\n')}\n`,
    );
    const started = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'v2',
      '--strategy',
      'blue-green',
      '--golden',
      'golden.jsonl',
    );
    expect(started.code, started.stderr).toBe(0);
    const status = parseJson<{ migration: { options: { golden: string } } }>(
      await cli('migrate', 'status', 'docs', '--json'),
    );
    expect(status.migration.options.golden).toBe(join(dir, 'golden.jsonl'));
    // The steps and the cutover run from another directory (the repository root) and still read it.
    const elsewhere = (...argv: string[]) => runCli(['--db', db, ...argv], process.cwd());
    for (let i = 0; i < 3; i++) expect((await elsewhere('migrate', 'step', 'docs')).code).toBe(0);
    const cut = await elsewhere('migrate', 'cutover', 'docs', '--json');
    expect(cut.stderr).not.toContain('NOT_FOUND');
  });

  it('maps refusals to exit codes and usage errors to 2', async () => {
    expect((await cli('migrate', 'step', 'docs')).code).toBe(4); // no migration: NOT_FOUND
    expect((await cli('migrate', 'start', 'docs', '--to', 'v2')).code).toBe(2); // --strategy missing
    expect((await cli('migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'big-bang')).code).toBe(2);
    await cli('migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'blue-green');
    const early = await cli('migrate', 'cutover', 'docs', '--json');
    expect(early.code).toBe(6);
    expect(parseJson<{ error: { code: string } }>(early).error.code).toBe('INVALID_TRANSITION');
    await cli('migrate', 'step', 'docs');
    // 60 short documents of random words give too few probe queries: with no judged set either, the
    // default gates refuse to cut over with quality unmeasured, saying why and what to do.
    const gated = await cli('migrate', 'cutover', 'docs', '--json');
    expect(gated.code).toBe(7);
    const refusal = parseJson<{ error: { code: string; message: string } }>(gated).error;
    expect(refusal.code).toBe('GATE_FAILED');
    expect(refusal.message).toMatch(
      /gate "quality\.measured >= 1" \(quality is not measured: no judged golden set, and no probe — /,
    );
    expect(refusal.message).toMatch(/--golden/);
    const forced = await cli('migrate', 'cutover', 'docs', '--force', '--reason', 'tiny test set', '--json');
    expect(forced.code).toBe(0);
    // The finished cutover keeps its migration open for the rollback window: a new one must wait.
    const again = await cli('migrate', 'start', 'docs', '--to', 'v1', '--strategy', 'shadow', '--json');
    expect(again.code).toBe(5);
    expect(parseJson<{ error: { code: string; message: string } }>(again).error).toMatchObject({
      code: 'CONFLICT',
    });
  });
});
