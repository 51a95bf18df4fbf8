import { describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from '../cli/helpers.js';

describe('reembed keys', () => {
  it('creates (printing the key once), lists without secrets, revokes; bad scope is a usage error', async () => {
    const { dir, cleanup } = tempDir('reembed-keys-');
    try {
      expect((await runCli(['init'], dir)).code).toBe(0);
      const created = await runCli(
        ['keys', 'create', 'search-svc', '--scope', 'query', '--tenant', 'acme'],
        dir,
      );
      expect(created.code).toBe(0);
      const secret = /rk_[0-9a-f]{12}_\S{43}/.exec(created.stdout)?.[0] as string;
      expect(secret).toBeDefined();
      const list = await runCli(['keys', 'list'], dir);
      expect(list.stdout).toContain('search-svc');
      expect(list.stdout).toContain('acme');
      expect(list.stdout).not.toContain(secret.slice(16));
      const json = parseJson<{ name: string; revokedAt: string | null }[]>(
        await runCli(['--json', 'keys', 'list'], dir),
      );
      expect(json).toMatchObject([{ name: 'search-svc', revokedAt: null }]);
      expect((await runCli(['keys', 'create', 'search-svc'], dir)).code).toBe(5); // ALREADY_EXISTS
      expect((await runCli(['keys', 'create', 'x', '--scope', 'root'], dir)).code).toBe(2);
      expect((await runCli(['keys', 'create', 'x', '--scope', 'admin', '--tenant', 'acme'], dir)).code).toBe(
        2,
      );
      expect((await runCli(['keys', 'revoke', 'search-svc'], dir)).code).toBe(0);
      expect((await runCli(['keys', 'revoke', 'search-svc'], dir)).code).toBe(4);
      const audit = await runCli(['audit', '--action', 'key.*'], dir);
      expect(audit.stdout).toContain('key.create');
      expect(audit.stdout).toContain('key.revoke');
      expect(audit.stdout).not.toContain(secret.slice(16));
    } finally {
      cleanup();
    }
  });
});
