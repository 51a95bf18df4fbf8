import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, parseJson, runCli, tempDir } from '../cli/helpers.js';
import { corpus } from '../migration/helpers.js';

let dir: string;
let cleanup: () => void;
let db: string;
const cli = (...argv: string[]): Promise<CliRun> => runCli(['--db', db, ...argv], dir);
const jsonl = (name: string, docs: readonly object[]): string => {
  writeFileSync(join(dir, name), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  return name;
};

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  db = join(dir, 'r.db');
  for (const argv of [
    ['init'],
    ['space', 'add', 'v1', '--provider', 'hashing', '--dimension', '64', '--seed', '1'],
    ['space', 'add', 'v2', '--provider', 'hashing', '--dimension', '64', '--seed', '2'],
    ['collection', 'create', 'docs', '--space', 'v1'],
    ['ingest', 'docs', jsonl('docs.jsonl', corpus(30))],
  ]) {
    const r = await cli(...argv);
    expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
  }
});
afterEach(() => cleanup());

describe('re-ingesting a deleted document is explicit', () => {
  const doc = corpus(30)[3] as { id: string; text: string };
  const other = { id: 'fresh-1', text: 'a brand new document about rollback' };

  it('restores by default and says so, by id', async () => {
    expect((await cli('delete', 'docs', doc.id)).code).toBe(0);
    const run = await cli('ingest', 'docs', jsonl('again.jsonl', [doc, other]));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`restored 1 previously deleted document(s), live again: ${doc.id}`);
    expect((await cli('delete', 'docs', doc.id)).code).toBe(0);
    const json = parseJson<{ restored: number; restoredIds: string[]; changed: number }>(
      await cli('ingest', 'docs', 'again.jsonl', '--json'),
    );
    expect(json).toMatchObject({ restored: 1, restoredIds: [doc.id], changed: 1 });
  });

  it('--deleted skip leaves it deleted; --deleted refuse writes nothing of the batch', async () => {
    expect((await cli('delete', 'docs', doc.id)).code).toBe(0);
    const refused = await cli('ingest', 'docs', jsonl('again.jsonl', [other, doc]), '--deleted', 'refuse');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain(`error CONFLICT: 1 document(s) of this batch were deleted`);
    expect(refused.stderr).toContain(doc.id);
    const status = parseJson<{ coverage: { live: number } }[]>(await cli('status', 'docs', '--json'));
    expect(status[0]?.coverage.live).toBe(29); // fresh-1 was not written either

    const skipped = parseJson<{ skippedDeleted: number; restored: number; changed: number }>(
      await cli('ingest', 'docs', 'again.jsonl', '--deleted', 'skip', '--json'),
    );
    expect(skipped).toMatchObject({ skippedDeleted: 1, restored: 0, changed: 1 });
    const hits = parseJson<{ hits: { sourceId: string }[] }>(
      await cli('search', 'docs', doc.text, '-k', '30', '--json'),
    );
    expect(hits.hits.map((h) => h.sourceId)).not.toContain(doc.id);
  });
});

describe('gates: a refusal says how to pass, a forced cutover names what it forced', () => {
  it('shadow samples: the refusal says to serve queries through the alias; --force names the gate', async () => {
    expect((await cli('migrate', 'start', 'docs', '--to', 'v2', '--strategy', 'shadow')).code).toBe(0);
    expect((await cli('migrate', 'step', 'docs')).code).toBe(0); // backfill → validating
    const waiting = await cli('migrate', 'step', 'docs'); // → shadowing, gates reported
    expect(waiting.stdout).toContain('serve queries through the alias "docs"');

    const refused = await cli('migrate', 'cutover', 'docs');
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('"shadow.samples >= 20"');
    expect(refused.stderr).toContain('serve queries through the alias "docs"');
    expect(refused.stderr).toContain('reembed search docs');
    // 30 short documents give no probe: a replay needs a file then, and quality a judged set.
    expect(refused.stderr).toContain('reembed migrate replay docs (queries of yours: --file queries.jsonl');
    expect(refused.stderr).toContain('"quality.measured >= 1" (quality is not measured');
    expect(refused.stderr).toContain('To pass: shadow samples:');
    expect(refused.stderr).toContain('quality: pass a judged golden set to the cutover (--golden DIR|NAME).');
    expect(refused.stderr).not.toContain('these rules need a golden set');

    const forced = await cli('migrate', 'cutover', 'docs', '--force', '--reason', 'drill');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(
      /FORCED past 3 failing gate\(s\): "shadow\.samples >= 20" \(0 >= 20 fails .*"shadow\.overlap >= 0\.05" \(not measured yet: no new\.shadow\.overlap or shadow\.overlap\); "quality\.measured >= 1"/,
    );
    expect(forced.stdout).toContain('reason: drill');
    const audit = parseJson<{ action: string; details: Record<string, unknown> }[]>(
      await cli('audit', '--action', 'gate.forced', '--json'),
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({
      reason: 'drill',
      failed: [
        expect.objectContaining({ rule: 'shadow.samples >= 20' }),
        expect.objectContaining({ rule: 'shadow.overlap >= 0.05' }),
        expect.objectContaining({ rule: 'quality.measured >= 1' }),
      ],
    });
    const transition = parseJson<{ details: Record<string, unknown> }[]>(
      await cli('audit', '--action', 'migration.transition', '--json'),
    ).find((e) => e.details.to === 'cut-over');
    expect(transition?.details).toMatchObject({
      forced: true,
      forcedGates: ['shadow.samples >= 20', 'shadow.overlap >= 0.05', 'quality.measured >= 1'],
    });
  });
});
