import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Words that follow "reembed" in prose ("reembed refuses to ...", "reembed needs ..."), not commands.
 * Anything else after "reembed" in a message must be a command that exists.
 */
const PROSE = new Set(['cannot', 'database', 'needs', 'never', 'reads', 'refuses', 'schema', 'to']);

/** `reembed <word> [<word>]` in the code (not the comments) of every source file. */
function commandMentions(): Map<string, string[]> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) files.push(path);
    }
  };
  walk(join(ROOT, 'src'));
  const mentions = new Map<string, string[]>();
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.trim();
        if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
        for (const m of line.matchAll(/reembed ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)) {
          const key = m[2] === undefined ? (m[1] as string) : `${m[1]} ${m[2]}`;
          mentions.set(key, [...(mentions.get(key) ?? []), `${relative(ROOT, file)}:${i + 1}`]);
        }
      });
  }
  return mentions;
}

/** The `Usage:` line of `reembed <words...> --help`, or null when the CLI refuses the words. */
async function usage(words: readonly string[]): Promise<string | null> {
  const run = await runCli([...words, '--help'], ROOT);
  if (run.code !== 0) return null;
  return run.stdout.split('\n').find((l) => l.startsWith('Usage:')) ?? null;
}

describe('messages name commands that exist', () => {
  it('every "reembed <command> [<subcommand>]" in src is a real command', async () => {
    const mentions = commandMentions();
    expect(mentions.size).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const [key, where] of mentions) {
      const [command, next] = key.split(' ') as [string, string | undefined];
      if (PROSE.has(command)) continue;
      const top = await usage([command]);
      if (top === null || !top.startsWith(`Usage: reembed ${command} `)) {
        broken.push(`"reembed ${key}" (${where.join(', ')}): no command "${command}"`);
        continue;
      }
      // A command with subcommands: the next word must be one of them (else it is an argument).
      if (next === undefined || !top.includes('[command]')) continue;
      const sub = await usage([command, next]);
      if (sub === null || !sub.startsWith(`Usage: reembed ${command} ${next} `))
        broken.push(`"reembed ${key}" (${where.join(', ')}): "${command}" has no subcommand "${next}"`);
    }
    expect(broken).toEqual([]);
  });

  it('would catch a message naming a command that does not exist', async () => {
    expect(await usage(['alias', 'set'])).toMatch(/^Usage: reembed alias set /);
    expect((await usage(['nonexistent']))?.startsWith('Usage: reembed nonexistent ') ?? false).toBe(false);
    const sub = await usage(['migrate', 'finsh']);
    expect(sub?.startsWith('Usage: reembed migrate finsh ') ?? false).toBe(false);
  });
});
