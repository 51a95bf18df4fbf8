import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeprecationStage } from '../../src/cli/demo/deprecation.js';
import type { StepReport } from '../../src/cli/demo/types.js';
import { type CliRun, parseJson, runCli, tempDir } from './helpers.js';

interface DeprecationJson {
  db: { backend: string; temporary: boolean; kept: boolean };
  steps: StepReport[];
  scenario: string;
  cleanOld: number;
  adapter: string;
  gate: { passed: boolean; facts: Record<string, number> };
  stages: DeprecationStage[];
  oldCalls: number;
  downtimeCalls: number;
}

const SMALL = ['--docs', '300', '--queries', '30', '--dimension', '64', '--batch-size', '25'];

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('reembed-demo-deprecation-')));
afterEach(() => cleanup());

function demoJson(run: CliRun): DeprecationJson {
  expect(run.code, run.stderr || run.stdout).toBe(0);
  return parseJson<DeprecationJson>(run);
}

/** The story: v1 retired (the alias answers nothing), a gated bridge serves at once, re-embed, cut over. */
function expectStory(doc: DeprecationJson): void {
  expect(doc.scenario).toBe('deprecation');
  expect(doc.steps.every((s) => s.status === 'done')).toBe(true);
  expect(doc.steps.map((s) => s.name).slice(-5)).toEqual([
    'deprecate-v1',
    'fit-bridge',
    'serve-through-bridge',
    're-embed',
    'cutover',
  ]);
  // Downtime without a bridge: every query through the v1 alias failed on the retired model.
  expect(doc.steps.find((s) => s.name === 'deprecate-v1')?.details).toMatchObject({ answered: 0 });
  expect(doc.downtimeCalls).toBeGreaterThan(0);
  // From the bridge on, the old model is never called.
  expect(doc.oldCalls).toBe(0);
  expect(doc.gate.passed).toBe(true);
  const [day0, ...rest] = doc.stages;
  expect(day0?.label).toBe('day 0');
  expect(day0?.coverage).toBeLessThan(0.25);
  // Day 0: the bridge serves clearly better than the alternatives left (swap to the new namespace, mix).
  expect(day0?.served as number).toBeGreaterThan((day0?.newAlone as number) + 0.05);
  expect(day0?.served as number).toBeGreaterThan((day0?.mixed as number) + 0.05);
  for (const s of doc.stages) {
    expect(s.served).toBeGreaterThanOrEqual(s.newAlone - 1e-9);
    expect(s.served).toBeGreaterThanOrEqual(s.mixed - 1e-9);
  }
  const coverage = doc.stages.map((s) => s.coverage);
  expect(coverage).toEqual([...coverage].sort((a, b) => a - b));
  expect(rest.length).toBeGreaterThanOrEqual(3);
  const native = doc.stages[doc.stages.length - 1];
  expect(native).toMatchObject({ label: 'native', coverage: 1 });
  expect(native?.served).toBeCloseTo(native?.newAlone as number, 6);
}

describe('reembed demo --scenario deprecation', () => {
  it('JSON on SQLite: downtime without a bridge, the bridge from day 0, never below the alternatives, cutover to native', async () => {
    expectStory(
      demoJson(
        await runCli(
          ['--db', join(dir, 'd.db'), 'demo', '--scenario', 'deprecation', ...SMALL, '--json'],
          dir,
        ),
      ),
    );
  }, 60_000);

  it('for humans: the stage table next to the alternatives, and no progress bar when piped', async () => {
    const run = await runCli(['demo', '--scenario', 'deprecation', ...SMALL], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/the old model is retired/);
    expect(run.stdout).toMatch(
      /STAGE\s+V2 COVERAGE\s+REEMBED \(BRIDGE\)\s+WAIT \(DOWNTIME\)\s+SWAP TO NEW\s+MIXED INDEX/,
    );
    expect(run.stdout).toMatch(/from the bridge on, v1 was called 0 time\(s\)/);
    const all = run.stdout + run.stderr;
    expect(all.includes(`${String.fromCharCode(27)}[`) || all.includes('█')).toBe(false);
  }, 60_000);

  const PG_URL = process.env.REEMBED_PG_URL;
  it.skipIf(!PG_URL)(
    'on PostgreSQL (a fresh schema, dropped at the end)',
    async () => {
      const doc = demoJson(
        await runCli(['demo', '--scenario', 'deprecation', ...SMALL, '--json'], dir, {
          REEMBED_PG_URL: PG_URL as string,
        }),
      );
      expect(doc.db).toMatchObject({ backend: 'pg', temporary: true, kept: false });
      expectStory(doc);
    },
    90_000,
  );
});
