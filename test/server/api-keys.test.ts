import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApiKey, hashApiKey, scopeAllows } from '../../src/app/api-keys.js';
import { openTestBackend, PG_SKIP_LINE, PG_URL } from '../../src/stores/pg/test-support.js';
import { openSqliteBackend } from '../../src/stores/sqlite/backend.js';
import { testApiKeyRepository } from '../../src/testing/api-keys-suite.js';

testApiKeyRepository({
  name: 'sqlite',
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reembed-keys-'));
    const backend = await openSqliteBackend({ path: join(dir, 'keys.db') });
    return {
      backend,
      cleanup: async () => {
        await backend.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

testApiKeyRepository({
  name: 'pg',
  ...(PG_URL ? {} : { skip: PG_SKIP_LINE }),
  create: async () => {
    const backend = await openTestBackend();
    return { backend, cleanup: () => backend.close() };
  },
});

describe('API keys', () => {
  it('are 256-bit random secrets stored as their SHA-256 only; admin ⊇ write ⊇ query; no tenant-bound admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reembed-keys-'));
    const backend = await openSqliteBackend({ path: join(dir, 'keys.db') });
    try {
      const { secret, key } = await createApiKey(backend, { name: 'svc', scope: 'write' }, 'alice');
      expect(secret).toMatch(/^rk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(secret).toContain(key.id);
      const row = backend.db.prepare('SELECT * FROM api_keys').get() as Record<string, unknown>;
      expect(row.hash).toBe(hashApiKey(secret));
      expect(JSON.stringify(row)).not.toContain(secret.slice(16));
      await expect(
        createApiKey(backend, { name: 'x', scope: 'admin', tenant: 't1' }, 'a'),
      ).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect([
        scopeAllows('admin', 'write'),
        scopeAllows('write', 'query'),
        scopeAllows('query', 'write'),
      ]).toEqual([true, true, false]);
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hashApiKey', () => {
  it('is the hex SHA-256 of the UTF-8 key, whichever Node API computes it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
        expect(hashApiKey(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
      }),
    );
    expect(hashApiKey('rk_0123456789ab_' + 'A'.repeat(43))).toBe(
      createHash('sha256')
        .update(`rk_0123456789ab_${'A'.repeat(43)}`, 'utf8')
        .digest('hex'),
    );
  });
});
