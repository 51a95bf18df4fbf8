import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openReembed } from '../../src/app/open.js';
import { hashingSpace } from '../../src/embedders/factory.js';

let dir: string;
let cwd: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'reembed-open-'));
  cwd = process.cwd();
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

describe('openReembed({ db: ":memory:" })', () => {
  it('is a private in-memory database, not a file named ":memory:"', async () => {
    const app = await openReembed({ db: ':memory:' });
    await app.addSpace(hashingSpace('v1', { dimension: 16 }));
    await app.createCollection('docs', 'v1');
    await app.ingest('docs', [{ id: 'a', text: 'in memory' }]);
    expect((await app.search('docs', { text: 'memory', k: 1 })).hits.map((h) => h.sourceId)).toEqual(['a']);
    await app.close();
    expect(existsSync(join(dir, ':memory:'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // A second one is another, empty database.
    const again = await openReembed({ db: ':memory:' });
    expect(await again.backend.catalog.listCollections()).toEqual([]);
    await again.close();
  });
});
