import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import { HashingEncoder } from '../../src/embedders/hashing.js';
import { tableNameOf } from '../../src/stores/pg/sql-records.js';
import { PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { type OpenAICompatibleServer, startOpenAICompatibleServer } from '../../src/testing/openai-server.js';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

/**
 * Status that tells the truth, against a real OpenAI-compatible server on 127.0.0.1 (with injected
 * faults) and real child processes killed with SIGKILL: a dead backfill is `interrupted` with the command
 * that resumes it, progress is measured in the store, retries the provider forced are counted, and dead
 * letters show as dead letters with their next step.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'src', 'cli', 'entry.ts');
const KEY_VAR = 'REEMBED_STATUS_TEST_KEY';

let dir: string;
let cleanup: () => void;
let db: string;
let server: OpenAICompatibleServer;
/** The backend of the current test: `--db FILE`, or `--pg URL` with a schema of its own. */
let target: string[] = [];
let pgSchema: string | null = null;
const cli = (...argv: string[]): Promise<CliRun> => runCli([...target, ...argv], dir);
const encoder = new HashingEncoder(32, { seed: 7, ngrams: 1, sublinear: false }, true);

interface StatusJson {
  backfill: {
    state: string;
    detail: string | null;
    next: string | null;
    documents: { live: number; current: number; stale: number; missing: number; deadLettered: number };
  };
  job: { counters: { written: number; retries: number } } | null;
}

async function setup(docs: number, options: { latencyMs?: number; poison?: boolean } = {}): Promise<void> {
  server = await startOpenAICompatibleServer({
    embed: (text) => {
      // A document the provider always refuses (HTTP 400): a poison item, to be dead-lettered.
      if (options.poison && text.includes('POISON')) throw new Error('input rejected by content filter');
      return encoder.encode(text);
    },
    apiKey: 'sk-status-test',
    ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}),
  });
  process.env[KEY_VAR] = 'sk-status-test';
  const docsOf = corpus(docs).map((d, i) =>
    options.poison && i % 97 === 5 ? { ...d, text: `${d.text} POISON` } : d,
  );
  writeFileSync(join(dir, 'docs.jsonl'), `${docsOf.map((d) => JSON.stringify(d)).join('\n')}\n`);
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '32', '--seed', '1'],
    [
      'space',
      'add',
      'remote',
      '--provider',
      'openai-compatible',
      '--model',
      'm1',
      '--dimension',
      '32',
      '--base-url',
      server.url,
      '--api-key-env',
      KEY_VAR,
      '--option',
      'maxBatchSize=10',
      '--option',
      'concurrency=2',
      '--option',
      'retryBaseMs=1',
      '--option',
      'retryMaxDelayMs=5',
    ],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', 'docs.jsonl'],
    ['delete', 'docs', 'doc-00001', 'doc-00002'],
    [
      'migrate',
      'start',
      'docs',
      '--to',
      'remote',
      '--strategy',
      'blue-green',
      '--batch-size',
      '20',
      '--concurrency',
      '2',
    ],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
}

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  target = ['--db', db];
  pgSchema = null;
});
afterEach(async () => {
  delete process.env[KEY_VAR];
  await server?.close();
  if (pgSchema !== null) {
    delete process.env.REEMBED_PG_SCHEMA;
    await (await openReembed({ pg: PG_URL, pgSchema, pgDropSchemaOnClose: true })).close();
  }
  cleanup();
});

function usePostgres(): void {
  pgSchema = uniqueSchema();
  process.env.REEMBED_PG_SCHEMA = pgSchema; // openReembed reads it; the child inherits it
  target = ['--pg', PG_URL as string];
}

/** Sources a namespace holds records for, counted with plain SQL (independently of reembed's code). */
async function storedSources(namespace: string): Promise<number> {
  if (pgSchema !== null) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(DISTINCT source_id) AS n FROM "${pgSchema}"."${tableNameOf(namespace)}"`,
      );
      return Number(rows[0]?.n);
    } finally {
      await client.end();
    }
  }
  const file = new Database(db, { readonly: true });
  try {
    return (
      file
        .prepare('SELECT count(DISTINCT source_id) AS n FROM records WHERE namespace = ?')
        .get(namespace) as {
        n: number;
      }
    ).n;
  } finally {
    file.close();
  }
}

function startChild(argv: readonly string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...target, ...argv], {
    cwd: ROOT, // where `--import tsx` resolves
    env: { ...process.env, [KEY_VAR]: 'sk-status-test', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  (child as { output?: () => string }).output = () => output;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 60_000,
  context: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${context()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a SIGKILLed backfill is reported as interrupted, with store-measured progress', () => {
  for (const backend of ['sqlite', 'postgres'] as const) {
    it.skipIf(backend === 'postgres' && !PG_URL)(
      `${backend}: running while it runs (and a second runner is refused), interrupted after SIGKILL, resumable`,
      async () => {
        if (backend === 'postgres') usePostgres();
        await setup(600, { latencyMs: 40 });
        const { child, exited } = startChild(['migrate', 'step', 'docs']);
        await until(
          () => server.requests.length >= 4,
          'the child to start embedding',
          60_000,
          () => (child as { output?: () => string }).output?.() ?? '',
        );

        const running = parseJson<StatusJson>(await cli('migrate', 'status', 'docs', '--json'));
        expect(running.backfill.state).toBe('running');
        expect(running.backfill.detail).toContain(`runner pid ${child.pid}`);
        expect(running.backfill.next).toBeNull();
        const second = await cli('backfill', 'run', 'docs');
        expect(second.code).toBe(5);
        expect(second.stderr).toContain('is already running');

        await until(() => server.requests.length >= 12, 'more batches');
        child.kill('SIGKILL');
        await exited;

        const status = parseJson<StatusJson>(await cli('migrate', 'status', 'docs', '--json'));
        expect(status.backfill.state).toBe('interrupted');
        expect(status.backfill.detail).toContain(`runner pid ${child.pid}`);
        expect(status.backfill.detail).toContain('is gone');
        expect(status.backfill.next).toBe('reembed migrate step docs (resumes from the checkpoint)');
        // Measured in the store: what the target really holds, deleted documents counted nowhere.
        const held = await storedSources('docs@remote');
        expect(held).toBeGreaterThan(0);
        expect(held).toBeLessThan(598);
        expect(status.backfill.documents).toMatchObject({
          live: 598,
          current: held,
          stale: 0,
          missing: 598 - held,
        });
        // The job's own tallies are flushed every 2 s and died with the process: never more than the store.
        expect(status.job?.counters.written ?? 0).toBeLessThanOrEqual(held);

        const human = await cli('migrate', 'status', 'docs');
        expect(human.stdout).toContain(`documents  ${held} of 598 live current in docs@remote`);
        expect(human.stdout).toMatch(/backfill {3}interrupted \(runner pid \d+ on .* is gone/);
        expect(human.stdout).toContain('resume: reembed migrate step docs (resumes from the checkpoint)');
        expect(human.stdout).toContain('review     no labels yet');
        const monitor = parseJson<{ checks: { namespace: string; check: string; detail: string }[] }>(
          await cli('monitor', '--json'),
        );
        const coverage = monitor.checks.find((c) => c.namespace === 'docs@remote' && c.check === 'coverage');
        expect(coverage?.detail).toContain('backfill interrupted');
        expect(coverage?.detail).toContain('resume with reembed backfill run docs@remote');

        const resumed = await cli('migrate', 'step', 'docs');
        expect(resumed.code, resumed.stderr).toBe(0);
        const done = parseJson<StatusJson>(await cli('migrate', 'status', 'docs', '--json'));
        expect(done.backfill).toMatchObject({
          state: 'done',
          next: null,
          documents: { live: 598, current: 598 },
        });
        expect(await storedSources('docs@remote')).toBe(598);
      },
      120_000,
    );
  }
});

const FAULTS = {
  rate: {
    probability: 0.2,
    seed: 11,
    faults: [
      { kind: 'status' as const, status: 429, headers: { 'retry-after-ms': '1' } },
      { kind: 'status' as const, status: 500 },
    ],
  },
};

describe('a provider that fails 20% of requests (429s and 500s, all retried)', () => {
  it('counts every retry the provider forced: the report, the job and the server agree', async () => {
    await setup(480);
    server.setFaults(FAULTS);
    const run = await cli('backfill', 'run', 'docs', '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = parseJson<{ status: string; retries: number; written: number }>(run);
    const failed = server.requests.filter((r) => r.status === 429 || r.status === 500).length;
    expect(failed).toBeGreaterThanOrEqual(5);
    expect(report).toMatchObject({ status: 'done', retries: failed, written: 478 });
    const status = parseJson<StatusJson>(await cli('migrate', 'status', 'docs', '--json'));
    expect(status.job?.counters.retries).toBe(failed);
  }, 120_000);

  it('with five poison documents: dead letters show as dead letters, with their next step', async () => {
    await setup(480, { poison: true });
    server.setFaults(FAULTS);
    const run = await cli('backfill', 'run', 'docs', '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = parseJson<{ status: string; retries: number; deadLettered: number; written: number }>(run);
    const failed = server.requests.filter((r) => r.status === 429 || r.status === 500).length;
    // A request in flight when a sibling hit a poison document is abandoned, not retried: at most `failed`.
    expect(report.retries).toBeGreaterThan(0);
    expect(report.retries).toBeLessThanOrEqual(failed);
    expect(report).toMatchObject({ status: 'done', deadLettered: 5, written: 478 - 5 });

    const status = parseJson<StatusJson>(await cli('migrate', 'status', 'docs', '--json'));
    expect(status.backfill).toMatchObject({
      state: 'done',
      next: 'reembed backfill retry-dead docs',
      documents: { live: 478, current: 473, deadLettered: 5 },
    });
    const monitor = parseJson<{
      checks: { namespace: string; check: string; status: string; value: number; detail: string }[];
    }>(await cli('monitor', '--json'));
    const of = (check: string) =>
      monitor.checks.find((c) => c.namespace === 'docs@remote' && c.check === check);
    expect(of('dead-letters')).toMatchObject({ status: 'warn', value: 5 });
    expect(of('dead-letters')?.detail).toContain('reembed backfill retry-dead docs@remote');
    expect(of('coverage')?.detail).not.toContain('in progress');
    expect(of('coverage')?.detail).toContain('backfill finished but 5 documents are dead-lettered');
  }, 120_000);
});
