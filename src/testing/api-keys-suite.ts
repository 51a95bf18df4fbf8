import { describe, expect, it } from 'vitest';
import type { ApiKeyRepository } from '../ports/api-keys.js';
import type { Backend } from '../ports/backend.js';

/**
 * The conformance suite of `ApiKeyRepository`: every backend that stores API keys runs it against its
 * real engine (SQLite file, PostgreSQL schema).
 *
 * @example
 * testApiKeyRepository({ name: 'sqlite', create: async () => ({ backend, cleanup }) });
 */
export interface ApiKeySuiteOptions {
  readonly name: string;
  readonly create: () => Promise<{ backend: Backend; cleanup(): Promise<void> }>;
  readonly skip?: string;
}

const hash = (n: number): string => n.toString(16).padStart(64, '0');

export function testApiKeyRepository(options: ApiKeySuiteOptions): void {
  describe.skipIf(options.skip !== undefined)(`ApiKeyRepository conformance: ${options.name}`, () => {
    const withKeys = async (fn: (keys: ApiKeyRepository, backend: Backend) => Promise<void>) => {
      const { backend, cleanup } = await options.create();
      try {
        if (!backend.apiKeys) throw new Error(`${options.name} declares no apiKeys repository`);
        await fn(backend.apiKeys, backend);
      } finally {
        await cleanup();
      }
    };

    it('creates, finds by hash, lists and counts live keys; the hash is never returned', () =>
      withKeys(async (keys) => {
        expect(await keys.countLive()).toBe(0);
        const a = await keys.create(
          { id: 'aaaaaaaaaaaa', name: 'svc', scope: 'query', tenant: null, hash: hash(1) },
          'alice',
        );
        await keys.create(
          { id: 'bbbbbbbbbbbb', name: 'tenant', scope: 'write', tenant: 't1', hash: hash(2) },
          'alice',
        );
        expect(a).toMatchObject({
          kind: 'api-key',
          id: 'aaaaaaaaaaaa',
          name: 'svc',
          scope: 'query',
          tenant: null,
          createdBy: 'alice',
          revokedAt: null,
        });
        expect(JSON.stringify(a)).not.toContain(hash(1));
        expect((await keys.findByHash(hash(2)))?.tenant).toBe('t1');
        expect(await keys.findByHash(hash(3))).toBeNull();
        expect((await keys.list()).map((k) => k.name)).toEqual(['svc', 'tenant']);
        expect(await keys.countLive()).toBe(2);
      }));

    it('refuses a second live key of the same name (ALREADY_EXISTS) and writes nothing', () =>
      withKeys(async (keys) => {
        await keys.create(
          { id: 'aaaaaaaaaaaa', name: 'svc', scope: 'query', tenant: null, hash: hash(1) },
          'alice',
        );
        await expect(
          keys.create(
            { id: 'cccccccccccc', name: 'svc', scope: 'admin', tenant: null, hash: hash(4) },
            'alice',
          ),
        ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
        expect(await keys.findByHash(hash(4))).toBeNull();
      }));

    it('revokes by id or name: the key stops authenticating, stays listed, and its name is free again', () =>
      withKeys(async (keys, backend) => {
        await keys.create(
          { id: 'aaaaaaaaaaaa', name: 'svc', scope: 'query', tenant: null, hash: hash(1) },
          'alice',
        );
        await keys.create(
          { id: 'bbbbbbbbbbbb', name: 'ops', scope: 'admin', tenant: null, hash: hash(2) },
          'alice',
        );
        const revoked = await keys.revoke('svc', 'bob');
        expect(revoked.revokedAt).not.toBeNull();
        expect(await keys.findByHash(hash(1))).toBeNull();
        await keys.revoke('bbbbbbbbbbbb', 'bob');
        expect(await keys.countLive()).toBe(0);
        await expect(keys.revoke('svc', 'bob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await keys.create(
          { id: 'dddddddddddd', name: 'svc', scope: 'write', tenant: null, hash: hash(5) },
          'alice',
        );
        expect((await keys.list()).length).toBe(3);
        const audit = await backend.catalog.listAudit({ action: 'key.*' });
        expect(audit.map((e) => `${e.action} ${e.subject} ${e.actor}`)).toEqual([
          'key.create key:svc alice',
          'key.create key:ops alice',
          'key.revoke key:svc bob',
          'key.revoke key:ops bob',
          'key.create key:svc alice',
        ]);
      }));

    it('a change marker, where offered, moves with every create and revoke, and only then', () =>
      withKeys(async (keys) => {
        if (!keys.changeMarker) return; // optional: the server then looks keys up on every request
        const first = keys.changeMarker();
        expect(keys.changeMarker()).toBe(first);
        await keys.findByHash(hash(1));
        await keys.list();
        expect(keys.changeMarker()).toBe(first);
        await keys.create(
          { id: 'aaaaaaaaaaaa', name: 'svc', scope: 'query', tenant: null, hash: hash(1) },
          'alice',
        );
        const created = keys.changeMarker();
        expect(created).not.toBe(first);
        await keys.revoke('svc', 'bob');
        expect(keys.changeMarker()).not.toBe(created);
      }));
  });
}
