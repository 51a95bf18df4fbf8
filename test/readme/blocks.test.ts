import { describe, expect, it } from 'vitest';
import { parseMarker, parseReadme, withoutComment } from './blocks.js';

const fence = '```';

describe('README blocks and their markers', () => {
  it('finds sh and ts blocks, joins continued lines, drops comments, and ignores other languages', () => {
    const blocks = parseReadme(
      [
        'Intro',
        `${fence}sh`,
        'reembed init',
        '# a comment line',
        'reembed space add x --provider hashing \\',
        '  --dimension 8   # trailing comment',
        fence,
        `${fence}text`,
        '<!-- readme-test: skip — inside a text block this is an example, not a marker -->',
        fence,
        `${fence}ts`,
        "console.log('hi');",
        fence,
      ].join('\n'),
    );
    expect(blocks.map((b) => [b.language, b.line])).toEqual([
      ['sh', 2],
      ['ts', 11],
    ]);
    expect(blocks[0]?.commands).toEqual([
      { line: 3, text: 'reembed init', expectedExit: 0, skip: null },
      {
        line: 5,
        text: 'reembed space add x --provider hashing  --dimension 8   # trailing comment',
        expectedExit: 0,
        skip: null,
      },
    ]);
  });

  it('applies the markers before a block (blank lines allowed) to that block only', () => {
    const [pg, plain] = parseReadme(
      [
        '<!-- readme-test: needs REEMBED_PG_URL — PostgreSQL -->',
        '<!-- readme-test: skip-line openai — needs OPENAI_API_KEY -->',
        '<!-- readme-test: exit 7 reembed migrate cutover docs -->',
        '<!-- readme-test: in-repo -->',
        '',
        `${fence}bash`,
        'reembed space add openai-3s --provider openai',
        'reembed migrate cutover docs   # refused',
        'reembed migrate cutover docs --force --reason "a # b"',
        fence,
        `${fence}sh`,
        'reembed migrate cutover docs',
        fence,
      ].join('\n'),
    );
    expect(pg?.needs).toEqual([{ variable: 'REEMBED_PG_URL', reason: 'PostgreSQL' }]);
    expect(pg?.inRepo).toBe(true);
    expect(pg?.commands.map((c) => [c.skip, c.expectedExit])).toEqual([
      ['needs OPENAI_API_KEY', 0],
      [null, 7],
      [null, 0],
    ]);
    expect(plain?.commands.map((c) => c.expectedExit)).toEqual([0]);
    expect(plain?.needs).toEqual([]);
  });

  it('refuses markers that would silently disable nothing or everything', () => {
    expect(() => parseMarker('<!-- readme-test: skipp — typo -->', 3)).toThrow(/README.md:3: unknown marker/);
    expect(() => parseMarker('<!-- readme-test: skip -->', 3)).toThrow(/skip needs a reason/);
    expect(() => parseMarker('<!-- readme-test: needs pg — lower case -->', 3)).toThrow(/needs VAR/);
    expect(() =>
      parseReadme(
        ['<!-- readme-test: skip — why -->', 'prose between', `${fence}sh`, 'ls', fence].join('\n'),
      ),
    ).toThrow(/must be followed by a code block/);
    expect(() =>
      parseReadme(['<!-- readme-test: skip-line nothing — why -->', `${fence}sh`, 'ls', fence].join('\n')),
    ).toThrow(/matches no command/);
  });

  it('strips a trailing comment outside quotes', () => {
    expect(withoutComment('reembed cutover docs   # refused')).toBe('reembed cutover docs');
    expect(withoutComment('reembed x --reason "a # b" # c')).toBe('reembed x --reason "a # b"');
    expect(withoutComment("echo 'it#s' x#y")).toBe("echo 'it#s' x#y");
  });
});
