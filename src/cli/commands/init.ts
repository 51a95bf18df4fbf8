import { existsSync } from 'node:fs';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';

export interface InitResult {
  readonly backend: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL without its password. */
  readonly location: string;
  readonly created: boolean;
}

/** `reembed init`: creates the database (schema included) and says where it is. Idempotent. */
export async function init(ctx: CliContext, _args: Record<string, never>): Promise<number> {
  const { pg, db } = ctx.globals;
  const existed = pg ? true : existsSync(db);
  await ctx.app({ create: true });
  const result: InitResult = pg
    ? { backend: 'postgres', location: redactUrl(pg), created: false }
    : { backend: 'sqlite', location: db, created: !existed };
  ctx.out.result(result, () => {
    if (result.backend === 'postgres') ctx.out.line(`reembed schema ready in ${result.location}`);
    else
      ctx.out.line(
        `${result.created ? 'Created' : 'Already initialised:'} reembed database at ${result.location}`,
      );
    ctx.out.line(ctx.out.style.dim('Next: reembed space add <name> --provider hashing --dimension 384'));
  });
  return 0;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export const initCommand: CliCommand = (command, bind) => command.action(bind(init, () => ({})));
