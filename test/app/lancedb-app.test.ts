import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationService } from '../../src/app/migrate.js';
import { openReembed } from '../../src/app/open.js';
import type { Reembed } from '../../src/app/reembed.js';
import { DOCS, hashing } from './helpers.js';

const v1 = hashing('v1', 1);
const v2 = hashing('v2', 2);

describe('the library with vectors in LanceDB (catalog in SQLite)', () => {
  let dir: string;
  let app: Reembed;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reembed-lance-app-'));
    app = await openReembed({ db: join(dir, 'catalog.db'), lancedb: join(dir, 'lance'), actor: 'test' });
    await app.addSpace(v1);
    await app.addSpace(v2);
    await app.createCollection('docs', 'v1');
    await app.ingest('docs', DOCS);
  });
  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('guards, ingests, searches and migrates blue-green with a cutover in the catalog', async () => {
    expect(app.backend.store.capabilities.sharedCatalogTransaction).toBe(false);
    const first = await app.search('docs', { text: 'tombstone deleted document', k: 2 });
    expect(first.hits[0]?.sourceId).toBe('d');
    const service = new MigrationService(app);
    try {
      // Four documents give no probe: without a judged set the default gates would refuse the cutover.
      const { migration } = await service.start({
        alias: 'docs',
        to: 'v2',
        strategy: 'blue-green',
        options: { gates: ['coverage >= 1.0', 'errors == 0'] },
      });
      // A dual-write and a delete during the migration reach both namespaces.
      await app.ingest('docs', [{ id: 'e', text: 'A new document written during the migration.' }]);
      await app.delete('docs', ['b']);
      for (let i = 0; i < 10; i++) {
        const m = await service.get(migration.id);
        if (m.state === 'validating' || m.state === 'shadowing' || m.state === 'rolling-out') break;
        await service.step(migration.id, {});
      }
      expect((await service.cutover(migration.id)).ok).toBe(true);
    } finally {
      await service.close();
    }
    const after = await app.search('docs', { text: 'new document written during the migration', k: 5 });
    expect(after.trace.reads.map((r) => r.namespace)).toEqual(['docs@v2']);
    expect(after.hits[0]?.sourceId).toBe('e');
    expect(after.hits.map((h) => h.sourceId)).not.toContain('b');
    const stats = await app.backend.store.stats('docs@v2');
    expect(stats.sources).toBe(4);
    expect(Object.keys(stats.fingerprints)).toEqual([v2.fingerprint]);
  });
});
