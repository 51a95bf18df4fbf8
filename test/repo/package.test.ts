import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  license: string;
  engines: { node: string };
};

describe('package metadata', () => {
  it('ships the licence package.json names, in full', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(text).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });

  it('engines admits the Node versions the README says are tested, and the current one', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('CI runs the whole suite on Node 20 and on Node 24');
    const major = Number(process.versions.node.split('.')[0]);
    expect(pkg.engines.node.split('||').some((range) => range.includes(`^${major}.`))).toBe(true);
    for (const tested of [20, 22, 24]) expect(pkg.engines.node).toContain(`^${tested}.`);
  });
});
