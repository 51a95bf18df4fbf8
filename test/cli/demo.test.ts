import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepReport } from '../../src/cli/demo/types.js';
import { sharedData } from '../../src/testing/shared.js';
import { parseJson, runCli, tempDir } from './helpers.js';

const SCIFACT_DATA = sharedData('datasets/scifact', 'corpus.jsonl');
const SCIFACT = SCIFACT_DATA.path;

interface DemoJson {
  kind: string;
  dataset: { kind: string; documents: number; queries: number };
  steps: StepReport[];
  guard: { code: string; message: string } | null;
  results: { row: string; metrics: Record<string, number> }[];
  conclusion: { mixedBelowV1: boolean; mixedBelowV2: boolean };
  spaces: { v1: { dimension: number; fingerprint: string }; v2: { dimension: number; fingerprint: string } };
}

function metric(doc: DemoJson, row: string, key: string): number {
  const value = doc.results.find((r) => r.row === row)?.metrics[key];
  if (value === undefined) throw new Error(`no ${key} for ${row}`);
  return value;
}

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('reembed-demo-test-')));
afterEach(() => cleanup());

describe('reembed demo', () => {
  it('on the synthetic corpus: one JSON document, the guard refuses, mixed scores below both clean indexes', async () => {
    const db = join(dir, 'demo.db');
    const run = await runCli(
      [
        '--db',
        db,
        'demo',
        '--docs',
        '400',
        '--queries',
        '40',
        '--dimension',
        '128',
        '--strategy',
        'none',
        '--json',
      ],
      dir,
    );
    expect(run.code).toBe(0);
    const doc = parseJson<DemoJson>(run);
    expect(doc.kind).toBe('demo');
    expect(doc.dataset).toMatchObject({ kind: 'synthetic', documents: 400, queries: 40 });
    expect(doc.steps.map((s) => [s.name, s.status])).toEqual(
      ['setup-v1', 'ingest', 'load-golden', 'evaluate-v1', 'fit-v2', 'build-v2', 'guard', 'mixed-index'].map(
        (n) => [n, 'done'],
      ),
    );
    expect(doc.spaces.v1.dimension).toBe(128);
    expect(doc.spaces.v2.dimension).toBe(128);
    expect(doc.spaces.v1.fingerprint).not.toBe(doc.spaces.v2.fingerprint);
    expect(doc.guard?.code).toBe('SPACE_MISMATCH');
    expect(doc.guard?.message).toContain('v2-lsa');
    for (const key of ['recall@10', 'ndcg@10']) {
      expect(metric(doc, 'mixed', key)).toBeLessThan(metric(doc, 'clean-v1', key));
      expect(metric(doc, 'clean-v1', key)).toBeLessThan(metric(doc, 'clean-v2', key));
    }
    expect(doc.conclusion).toMatchObject({ mixedBelowV1: true, mixedBelowV2: true });
    // The database given with --db is kept, with both namespaces single-space.
    const status = parseJson<{ namespace: string; fingerprints: Record<string, number> }[]>(
      await runCli(['--db', db, 'status', '--json'], dir),
    );
    expect(status.map((m) => [m.namespace, Object.keys(m.fingerprints).length])).toEqual([
      ['docs@v1-hashing', 1],
      ['docs@v2-lsa', 1],
    ]);
  });

  it('tells the story for humans and removes its temporary database', async () => {
    const run = await runCli(
      ['demo', '--docs', '300', '--queries', '30', '--dimension', '96', '--seed', '3', '--strategy', 'none'],
      dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      / 7\. writing the v2 vector of "doc-\d+" into docs@v1-hashing was refused: SPACE_MISMATCH/,
    );
    expect(run.stdout).toMatch(/\(a\) clean v1 +docs@v1-hashing/);
    expect(run.stdout).toMatch(/\(c\) mixed 50% v1 \/ 50% v2 +in memory \(refused by the store\)/);
    const path = /database {2}(\S+) \(temporary: removed at the end\)/.exec(run.stdout)?.[1];
    expect(path).toBeDefined();
    expect(existsSync(path as string)).toBe(false);
  });

  it('with --keep, says the database it created is kept (not "temporary") and keeps it', async () => {
    const run = await runCli(
      ['demo', '--docs', '300', '--queries', '30', '--dimension', '96', '--strategy', 'none', '--keep'],
      dir,
    );
    expect(run.code).toBe(0);
    const path = /database {2}(\S+) \(created for the demo, kept: --keep\)/.exec(run.stdout)?.[1];
    expect(path, run.stdout).toBeDefined();
    expect(run.stdout).not.toContain('temporary');
    expect(existsSync(path as string)).toBe(true);
    rmSync(dirname(path as string), { recursive: true, force: true });
  });

  it.skipIf(!SCIFACT_DATA.present)(
    SCIFACT_DATA.label('on SciFact (BEIR): completes and the mixed index scores below the clean v2 index'),
    async () => {
      const run = await runCli(
        ['--db', join(dir, 'scifact.db'), 'demo', '--dataset', SCIFACT, '--strategy', 'none', '--json'],
        dir,
      );
      expect(run.code).toBe(0);
      const doc = parseJson<DemoJson>(run);
      expect(doc.dataset).toMatchObject({ kind: 'beir', documents: 5183, queries: 300 });
      expect(doc.guard?.code).toBe('SPACE_MISMATCH');
      for (const key of ['recall@10', 'ndcg@10']) {
        expect(metric(doc, 'mixed', key)).toBeLessThan(metric(doc, 'clean-v2', key));
        expect(metric(doc, 'clean-v1', key)).toBeGreaterThan(0.1);
      }
    },
    180_000,
  );
});
