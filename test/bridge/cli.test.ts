import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from './helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);

const DOCS = corpus(240);

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  writeFileSync(join(dir, 'docs.jsonl'), `${DOCS.map((d) => JSON.stringify(d)).join('\n')}\n`);
  // Known-item golden queries: a few words and the last word of every fourth document.
  writeFileSync(
    join(dir, 'golden.jsonl'),
    `${DOCS.filter((_, i) => i % 4 === 0)
      .map((d) => {
        const w = d.text.split(' ');
        return JSON.stringify({
          id: `q-${d.id}`,
          query: [...w.slice(0, 3), w[w.length - 1]].join(' '),
          relevant: [d.id],
        });
      })
      .join('\n')}\n`,
  );
  for (const argv of [
    ['init'],
    ['space', 'add', 'old-v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'],
    ['space', 'add', 'near-v2', '--provider', 'hashing', '--dimension', '64', '--seed', '1', '--sublinear'],
    ['collection', 'create', 'docs', '--space', 'old-v1'],
    ['ingest', 'docs', 'docs.jsonl'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('reembed adapter fit --sample | migrate start --bridge', () => {
  it('refuses an ungated bridge (exit 7), then serves through a gated one and cuts over', async () => {
    const fit = await cli('adapter', 'fit', 'docs', '--from', 'old-v1', '--to', 'near-v2', '--sample', '160');
    expect(fit.code, fit.stderr).toBe(0);
    expect(fit.stdout).toMatch(/Sample: embedded 160 documents with near-v2 into docs@near-v2/);
    expect(fit.stdout).toMatch(/State fitted: it serves only after its gate passes/);

    const refused = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'near-v2',
      '--strategy',
      'lazy',
      '--bridge',
      'query',
    );
    expect(refused.code).toBe(7);
    expect(refused.stderr).toMatch(/GATE_FAILED.*invariant 9/);

    const misuse = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'near-v2',
      '--strategy',
      'lazy',
      '--adapter',
      'x',
    );
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/--adapter goes with --bridge/);

    const evaluated = await cli(
      'adapter',
      'eval',
      'near-v2-to-old-v1.1',
      '--golden',
      'golden.jsonl',
      '--json',
    );
    expect(evaluated.code, evaluated.stdout + evaluated.stderr).toBe(0);
    expect(parseJson<{ evaluation: { passed: boolean } }>(evaluated).evaluation.passed).toBe(true);

    const started = parseJson<{ migration: { options: { bridge: { name: string; primary: string } } } }>(
      await cli(
        'migrate',
        'start',
        'docs',
        '--to',
        'near-v2',
        '--strategy',
        'lazy',
        '--bridge',
        'query',
        '--json',
      ),
    );
    expect(started.migration.options.bridge).toMatchObject({
      name: 'near-v2-to-old-v1.1',
      primary: 'docs@old-v1',
    });

    const search = await cli(
      'search',
      'docs',
      DOCS[150]?.text.split(' ').slice(0, 4).join(' ') ?? '',
      '-k',
      '3',
    );
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toMatch(
      /bridged \(query bridge through adapter near-v2-to-old-v1\.1, query embedded by near-v2\)/,
    );

    expect((await cli('backfill', 'run', 'docs')).code).toBe(0);
    expect((await cli('migrate', 'step', 'docs')).code).toBe(0);
    const cut = await cli('migrate', 'cutover', 'docs');
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/alias docs → docs@near-v2/);
  });

  it('a progressive migration serves through a corpus bridge; migrate status says what each share reads', async () => {
    const fit = await cli(
      'adapter',
      'fit',
      'docs',
      '--from',
      'old-v1',
      '--to',
      'near-v2',
      '--sample',
      '100',
      '--direction',
      'corpus',
      '--golden',
      'golden.jsonl',
      '--gate',
      'vs_alone.ndcg@10.lo > 0',
    );
    expect(fit.code, fit.stdout + fit.stderr).toBe(0);
    const start = await cli(
      'migrate',
      'start',
      'docs',
      '--to',
      'near-v2',
      '--strategy',
      'progressive',
      '--bridge',
      'corpus',
      '--steps',
      '25,50,100',
      '--golden',
      join(dir, 'golden.jsonl'), // migrate stores the path as given: later steps resolve it against process.cwd
    );
    expect(start.code, start.stdout + start.stderr).toBe(0);
    const derived = 'docs@bridge.old-v1-to-near-v2.1';
    const status = await cli('migrate', 'status', 'docs');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(
      `serving    0% of queries: docs@near-v2, its not-yet-backfilled part answered through bridge old-v1-to-near-v2.1 (corpus); the rest: bridge old-v1-to-near-v2.1 (corpus) alone — ${derived}, old vectors mapped into the new space; the old model is not called`,
    );
    const step = await cli('migrate', 'step', 'docs', '--max-batches', '1');
    expect(step.code, step.stdout + step.stderr).toBe(0);
    expect(step.stdout).toMatch(/25% of traffic and 0 tenant\(s\) on docs@near-v2/);
    const moved = await cli('migrate', 'status', 'docs', '--json');
    expect(parseJson<{ serving: string }>(moved).serving).toMatch(/^25% of queries: docs@near-v2/);
    expect((await cli('backfill', 'run', 'docs')).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await cli('migrate', 'step', 'docs')).code).toBe(0);
    const cut = await cli('migrate', 'cutover', 'docs');
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/alias docs → docs@near-v2/);
  });
});
