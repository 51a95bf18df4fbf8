import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

/**
 * `worker status <alias>` shows the distributed backfill of the alias's migration (it said "No
 * distributed backfill planned" while `worker status <namespace>` showed it), with document counts
 * measured in the store: live documents only, whatever the workers' counters say.
 */
describe.skipIf(!PG_URL)(PG_URL ? 'worker status on PostgreSQL' : PG_SKIP_LINE, () => {
  let dir: string;
  let cleanup: () => void;
  const schema = uniqueSchema();
  const cli = (...argv: string[]): Promise<CliRun> => runCli(['--pg', PG_URL as string, ...argv], dir);

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    process.env.REEMBED_PG_SCHEMA = schema;
    writeFileSync(
      join(dir, 'docs.jsonl'),
      `${corpus(50)
        .map((d) => JSON.stringify(d))
        .join('\n')}\n`,
    );
    for (const argv of [
      ['init'],
      ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '16', '--seed', '1'],
      ['space', 'add', 'v2', '--provider', 'hashing', '--dimension', '16', '--seed', '2'],
      ['collection', 'create', 'docs', '--space', 'v1'],
      ['ingest', 'docs', 'docs.jsonl'],
      ['delete', 'docs', 'doc-00003', 'doc-00004'],
      ['migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'blue-green'],
      ['worker', 'plan', 'docs', '--range-size', '10'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    delete process.env.REEMBED_PG_SCHEMA;
    const app = await openReembed({ pg: PG_URL, pgSchema: schema, pgDropSchemaOnClose: true });
    await app.close();
    cleanup();
  });

  interface WorkerStatusJson {
    plans: {
      namespace: string;
      sources: number;
      documents: { live: number; current: number; missing: number };
    }[];
  }

  it('an alias means its migration target; counts are live documents measured in the store', async () => {
    const byAlias = parseJson<WorkerStatusJson>(await cli('worker', 'status', 'docs', '--json'));
    const byNamespace = parseJson<WorkerStatusJson>(await cli('worker', 'status', 'docs@v2', '--json'));
    expect(byAlias.plans.map((p) => p.namespace)).toEqual(['docs@v2']);
    expect(byAlias.plans[0]?.documents).toEqual(byNamespace.plans[0]?.documents);
    expect(byAlias.plans[0]?.documents).toMatchObject({ live: 48, current: 0, missing: 48 });
    expect(byAlias.plans[0]?.sources).toBe(50); // the ranges scan the two deleted documents too

    const worker = await cli('worker', '--until-done', '--concurrency', '2');
    expect(worker.code, worker.stderr).toBe(0);
    const human = await cli('worker', 'status', 'docs');
    expect(human.stdout).toContain('docs@v2 (generation 1): 48 of 48 live documents current (100.0%)');
    expect(human.stdout).toContain('5/5 ranges done (50/50 rows scanned, deleted documents included)');
    const none = await cli('worker', 'status', 'nope');
    expect(none.stdout).toContain('No distributed backfill planned for nope');
  }, 60_000);
});
