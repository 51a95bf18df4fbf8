import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import { PG_SKIP_LINE, PG_URL, uniqueSchema } from '../../src/stores/pg/test-support.js';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

/**
 * `reembed monitor` and `reembed report` give the same fields on PostgreSQL as on SQLite (issue 14): the
 * same session through the CLI on both backends — golden set stored by name, queries served and recorded
 * — and the JSON documents compared field by field (values aside).
 */
interface MonitorJson {
  namespaces: Record<string, unknown>[];
  checks: { check: string; status: string; namespace: string }[];
  aliases: Record<string, unknown>[];
}

/** The shape of a JSON value: every key path with its type (`null` kept apart from the other types). */
function shape(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) {
    out.push(`${path}: array`);
    if (value.length > 0) shape(value[0], `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    out.push(`${path}: object`);
    for (const key of Object.keys(value).sort()) {
      // Maps keyed by data (namespace names, fingerprints) differ by backend only in their keys' values.
      shape((value as Record<string, unknown>)[key], `${path}.${key}`, out);
    }
  } else {
    out.push(`${path}: ${value === null ? 'null' : typeof value}`);
  }
  return out;
}

async function session(cli: (...argv: string[]) => Promise<CliRun>, dir: string) {
  const docs = corpus(30);
  writeFileSync(join(dir, 'docs.jsonl'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  writeFileSync(
    join(dir, 'golden.jsonl'),
    `${docs
      .slice(0, 6)
      .map((d) => JSON.stringify({ query: d.text, relevant: [d.id] }))
      .join('\n')}\n`,
  );
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '32', '--seed', '1'],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', 'docs.jsonl'],
    ['eval', 'docs', '--golden', 'golden.jsonl', '--save-as', 'mini'],
    ['eval', 'docs', '--golden', 'mini'],
    ['search', 'docs', docs[0]?.text ?? '', '-k', '3'],
    ['search', 'docs', docs[1]?.text ?? '', '-k', '3'],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
  const monitor = parseJson<MonitorJson>(await cli('monitor', '--json'));
  const report = await cli('report', '--golden', 'mini', '--out', 'report.html', '--json');
  expect(report.code, report.stderr).toBe(0);
  return { monitor, report: parseJson(report) };
}

describe.skipIf(!PG_URL)(PG_URL ? 'monitor and report on PostgreSQL and SQLite' : PG_SKIP_LINE, () => {
  let dir: string;
  let cleanup: () => void;
  let schema: string;
  const previousSchema = process.env.REEMBED_PG_SCHEMA;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    schema = uniqueSchema();
    process.env.REEMBED_PG_SCHEMA = schema; // openReembed reads it
  });
  afterEach(async () => {
    await (await openReembed({ pg: PG_URL, pgSchema: schema, pgDropSchemaOnClose: true })).close();
    if (previousSchema === undefined) delete process.env.REEMBED_PG_SCHEMA;
    else process.env.REEMBED_PG_SCHEMA = previousSchema;
    cleanup();
  });

  it('give the same fields, traffic and latency measured and golden sets stored by name on both', async () => {
    const sqlite = await session((...argv) => runCli(['--db', join(dir, 'r.db'), ...argv], dir), dir);
    const pg = await session((...argv) => runCli(['--pg', PG_URL as string, ...argv], dir), dir);
    for (const m of [sqlite.monitor, pg.monitor]) {
      const [ns] = m.namespaces;
      expect(ns).toMatchObject({ namespace: 'docs@v1', trafficShare: 1, mixedVersionRate: 0 });
      expect(ns?.latencyP99Ms).toEqual(expect.any(Number));
      expect(m.checks.filter((c) => c.status === 'unmeasured').map((c) => c.check)).toEqual([]);
    }
    expect(shape(pg.monitor)).toEqual(shape(sqlite.monitor));
    expect(shape(pg.report)).toEqual(shape(sqlite.report));
  });
});
