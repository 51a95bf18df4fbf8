/**
 * The README is tested (issue 13): every `sh` and `ts` block of README.md runs as written, in order, so a
 * README that drifts from the code fails the build.
 *
 * - Shell blocks run command by command with bash, in a scratch directory that has a `shared` link beside
 *   it (as a fresh clone sees `../shared`) and `reembed` on the PATH (as after `npm link`: the compiled
 *   CLI, bin/reembed.js). Exports carry over from one command of a block to the next.
 * - TypeScript blocks run twice with tsx in the same directory, importing `reembed` (the package itself,
 *   linked into its node_modules): a snippet must also work when run again.
 * - Every command must exit 0 (or the code an `exit` marker names), print no stack trace, and end within
 *   a few seconds of its last output.
 * - Blocks share the directory and its database, in README order.
 *
 * Markers, HTML comments right before a block (see test/readme/blocks.ts and README "Development"):
 *   <!-- readme-test: skip — why -->             the block is not run (the reason is printed)
 *   <!-- readme-test: needs VAR — why -->        it runs only when the environment sets VAR
 *   <!-- readme-test: skip-line TEXT — why -->   its lines containing TEXT are not run
 *   <!-- readme-test: exit N COMMAND -->         its command COMMAND (as written, without its comment) must exit N
 *   <!-- readme-test: in-repo -->                it runs in the repository, not in the scratch directory
 * A block that needs the network or an API key gets `skip` (or `skip-line`) with its reason.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedData, sharedDir } from '../../src/testing/shared.js';
import { type Child, ensureBuilt, ROOT, spawnProcess, TSX } from '../cli/process.js';
import { parseReadme, type ReadmeBlock, type ShellCommand } from './blocks.js';

const README = join(ROOT, 'README.md');
const blocks = parseReadme(readFileSync(README, 'utf8'));
const scifact = sharedData('datasets/scifact', 'corpus.jsonl');
/** The bug this guards against kept processes alive for 30 s after their last line. */
const PROMPT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 300_000;

let scratch: string;
let work: string;
let envFile: string;
const pgSchema = `readme_${process.pid}_${Date.now().toString(36)}`;
const skipped: string[] = [];

beforeAll(() => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'reembed-readme-'));
  work = join(scratch, 'work');
  mkdirSync(join(work, 'node_modules'), { recursive: true });
  symlinkSync(sharedDir(), join(scratch, 'shared'));
  // `import 'reembed'` resolves to this package, as after `npm install reembed`.
  symlinkSync(ROOT, join(work, 'node_modules', 'reembed'));
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'reembed'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'reembed.js')}" "$@"\n`,
  );
  chmodSync(join(bin, 'reembed'), 0o755);
  envFile = join(scratch, 'env.sh');
}, 300_000);

afterAll(async () => {
  for (const line of skipped) console.log(line);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await dropPgSchema();
});

function environment(block: ReadmeBlock): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${join(scratch, 'bin')}:${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
    REEMBED_DEBUG: '',
  };
  if (block.needs.some((n) => n.variable === 'REEMBED_PG_URL')) env.REEMBED_PG_SCHEMA = pgSchema;
  else {
    // Only a block that says it needs PostgreSQL talks to it; the others use the SQLite file.
    delete env.REEMBED_PG_URL;
    delete env.REEMBED_PG_SCHEMA;
  }
  return env;
}

async function settle(child: Child): Promise<{ code: number | null; output: string; lingered: number }> {
  const timer = setTimeout(() => child.process.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
  const exit = await child.exited;
  clearTimeout(timer);
  const lingered = child.lastOutputAt === 0 ? 0 : exit.at - child.lastOutputAt;
  return { code: exit.code, output: `${child.stdout}${child.stderr}`, lingered };
}

function assertClean(
  where: string,
  run: { code: number | null; output: string; lingered: number },
  expected: number,
): void {
  const context = `${where}\n--- output:\n${run.output.slice(-4_000)}`;
  expect(run.code, context).toBe(expected);
  // A stack frame (`    at fn (file:1:2)`) means something crashed or printed an internal error.
  expect(run.output, context).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.lingered, `${where}: exited ${Math.round(run.lingered)} ms after its last output`).toBeLessThan(
    PROMPT_MS,
  );
}

async function runShell(block: ReadmeBlock, command: ShellCommand): Promise<void> {
  const where = `README.md:${command.line}: ${command.text.trim()}`;
  if (command.skip) {
    skipped.push(`README.md:${command.line} not run: ${command.skip}`);
    return;
  }
  const script = `[ -f "${envFile}" ] && . "${envFile}"\n${command.text}\n__rc=$?\nexport -p > "${envFile}"\nexit $__rc\n`;
  const run = await settle(
    spawnProcess('bash', ['-c', script], { cwd: block.inRepo ? ROOT : work, env: environment(block) }),
  );
  assertClean(where, run, command.expectedExit);
}

async function runTypeScript(block: ReadmeBlock): Promise<void> {
  const file = join(work, `readme-${block.line}.mts`);
  writeFileSync(file, block.code);
  for (const attempt of ['first', 'second']) {
    const run = await settle(
      spawnProcess(process.execPath, ['--import', TSX, file], {
        cwd: block.inRepo ? ROOT : work,
        env: environment(block),
      }),
    );
    assertClean(`README.md:${block.line} (TypeScript, ${attempt} run)`, run, 0);
  }
}

async function dropPgSchema(): Promise<void> {
  const url = process.env.REEMBED_PG_URL;
  if (!url || !blocks.some((b) => b.needs.some((n) => n.variable === 'REEMBED_PG_URL'))) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of [pgSchema, `${pgSchema}_worker`])
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

function skipReason(block: ReadmeBlock): string | null {
  if (block.skip) return block.skip;
  const missing = block.needs.find((n) => !process.env[n.variable]);
  return missing ? `needs ${missing.variable}: ${missing.reason}` : null;
}

describe.skipIf(!scifact.present)(scifact.label('README.md, as written'), () => {
  it('has blocks to run', () => {
    expect(blocks.filter((b) => b.language === 'sh').length).toBeGreaterThan(3);
    expect(blocks.filter((b) => b.language === 'ts').length).toBeGreaterThan(0);
  });

  for (const block of blocks) {
    const title = `README.md:${block.line} (${block.language}${block.inRepo ? ', in the repository' : ''})`;
    const reason = skipReason(block);
    if (reason) {
      it.skip(`${title} — not run: ${reason}`, () => undefined);
      skipped.push(`README.md:${block.line} not run: ${reason}`);
      continue;
    }
    it(title, async () => {
      if (block.language === 'ts') await runTypeScript(block);
      else for (const command of block.commands) await runShell(block, command);
    }, 900_000);
  }
});
