import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedData, sharedDir } from '../../src/testing/shared.js';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.(ts|mts|mjs|js)$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

describe('no absolute path of a development machine (issue 13)', () => {
  it('src/, test/, bench/ and scripts/ name the shared data only through sharedDir()', () => {
    // A fresh clone elsewhere has `../shared` beside it: an absolute path would only work here.
    const pattern = /['"`](\/work\/|\/home\/|\/Users\/|\/root\/)/;
    const offenders = ['src', 'test', 'bench', 'scripts']
      .flatMap((d) => sources(join(ROOT, d)))
      .filter((file) => !file.endsWith('paths.test.ts'))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, i) => [line, i] as const)
          .filter(([line]) => pattern.test(line))
          .map(([, i]) => `${relative(ROOT, file)}:${i + 1}`),
      );
    expect(offenders).toEqual([]);
  });

  it('resolves ../shared from the repository root, or REEMBED_SHARED_DIR', () => {
    expect(sharedDir({})).toBe(resolve(ROOT, '..', 'shared'));
    expect(sharedDir({ REEMBED_SHARED_DIR: '/data/reembed-shared' })).toBe('/data/reembed-shared');
    const missing = sharedData('datasets/no-such-dataset', 'corpus.jsonl');
    expect(missing.present).toBe(false);
    expect(missing.label('a test')).toMatch(/^a test — skipped: .*no-such-dataset\/corpus\.jsonl not found/);
  });
});
