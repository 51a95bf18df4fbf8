import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/process.js';

/**
 * Issue 14, item 6: comments say why; the figures that decided a choice (timings, speed-ups) live in
 * BENCHMARKS.md ("Figures behind code choices"), where they are dated and can be re-measured, not next to
 * the code, where they go stale silently. A comment may point there.
 */
const FIGURE =
  /((~|\babout |\btook |\bcosts? |\bwas |\binstead of |\bin )[\d.,–-]*\d\s?(ms|µs)\b|\d\s?(×|times) the throughput|in a paired profiling)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Comment lines (`//`, `/**`, ` * `) of a source file that quote a measured figure. */
function figuresInComments(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => /^\s*(\/\/|\/\*\*|\*)/.test(line) && FIGURE.test(line))
    .map((line) => line.trim());
}

describe('comments', () => {
  it('recognise a benchmark figure, and not a duration setting', () => {
    expect(figuresInComments('  // one lookup, ~0.1 ms.\n')).toHaveLength(1);
    expect(figuresInComments(' * took 9 ms exactly and 21 ms through the index\n')).toHaveLength(1);
    expect(figuresInComments(' * 5.5–12.5 times the throughput of the kernel\n')).toHaveLength(1);
    expect(figuresInComments(' * several times the throughput\n')).toEqual([]);
    expect(figuresInComments(' * jittered backoff (200 ms up to 5 s)\n const x = 3; // ms\n')).toEqual([]);
    expect(figuresInComments('const costs = { was: "about 3 ms" };\n')).toEqual([]);
  });

  it('in src carry no benchmark figures (they belong in BENCHMARKS.md)', () => {
    const found = sources(join(ROOT, 'src')).flatMap((path) =>
      figuresInComments(readFileSync(path, 'utf8')).map((l) => `${relative(ROOT, path)}: ${l}`),
    );
    expect(found).toEqual([]);
  });
});
