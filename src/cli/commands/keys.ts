import { Option } from 'commander';
import { createApiKey, requireApiKeys } from '../../app/api-keys.js';
import { API_KEY_SCOPES, type ApiKey, type ApiKeyScope } from '../../ports/api-keys.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';

export interface KeysArgs {
  readonly action: 'create' | 'list' | 'revoke';
  readonly name?: string;
  readonly scope?: ApiKeyScope;
  readonly tenant?: string;
}

/**
 * `reembed keys create <name> --scope query|write|admin [--tenant T]` prints the new key once (only its
 * hash is stored); `keys list` shows ids, names, scopes, tenants; `keys revoke <id|name>`. Audited.
 */
export async function keys(ctx: CliContext, args: KeysArgs): Promise<number> {
  const app = await ctx.app();
  const repository = requireApiKeys(app.backend);
  switch (args.action) {
    case 'create': {
      const { secret, key } = await createApiKey(
        app.backend,
        { name: args.name as string, scope: args.scope ?? 'query', tenant: args.tenant ?? null },
        app.actor,
      );
      ctx.out.result({ secret, key }, () => {
        ctx.out.line(
          `Created ${key.scope} key "${key.name}" (id ${key.id}${key.tenant ? `, tenant ${key.tenant}` : ''}). It is shown this once:`,
        );
        ctx.out.line();
        ctx.out.line(`  ${secret}`);
        ctx.out.line();
        ctx.out.line('Send it as "Authorization: Bearer <key>".');
      });
      return 0;
    }
    case 'list': {
      const all = await repository.list();
      ctx.out.result(all, () => {
        ctx.out.table(
          [
            { header: 'ID', value: (k: ApiKey) => k.id },
            { header: 'NAME', value: (k: ApiKey) => k.name },
            { header: 'SCOPE', value: (k: ApiKey) => k.scope },
            { header: 'TENANT', value: (k: ApiKey) => k.tenant ?? '-' },
            { header: 'CREATED', value: (k: ApiKey) => `${k.createdAt} by ${k.createdBy}` },
            { header: 'REVOKED', value: (k: ApiKey) => k.revokedAt ?? '-' },
          ],
          all,
          'No API keys. Create one: reembed keys create <name> --scope query',
        );
      });
      return 0;
    }
    case 'revoke': {
      const key = await repository.revoke(args.name as string, app.actor);
      ctx.out.result(key, () => ctx.out.line(`Revoked key "${key.name}" (id ${key.id}).`));
      return 0;
    }
  }
}

export const keysCommand: CliCommand = (group, bind) => {
  group
    .command('create <name>')
    .description('create an API key and print it once (only its hash is stored)')
    .addOption(
      new Option('--scope <scope>', 'query, write (⊇ query) or admin (⊇ write)')
        .choices(API_KEY_SCOPES)
        .default('query'),
    )
    .option('--tenant <tenant>', 'bind the key to one tenant: it only sees and writes that tenant')
    .action(
      bind(keys, (p, o) => ({
        action: 'create' as const,
        name: p[0] as string,
        scope: o.scope as ApiKeyScope,
        ...(typeof o.tenant === 'string' ? { tenant: o.tenant } : {}),
      })),
    );
  group
    .command('list')
    .description('list API keys (ids, names, scopes, tenants; never secrets)')
    .action(bind(keys, () => ({ action: 'list' as const })));
  group
    .command('revoke <key>')
    .description('revoke an API key by id or name (a running server stops accepting it within 2 s)')
    .action(bind(keys, (p) => ({ action: 'revoke' as const, name: p[0] as string })));
};
