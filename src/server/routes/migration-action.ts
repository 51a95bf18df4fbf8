import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ZodType } from 'zod';
import type { MigrationService } from '../../app/migrate.js';
import { ReembedError } from '../../core/errors.js';
import type { Migration } from '../../core/migration.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { MigrationRef } from '../schemas.js';
import type { routeGroup } from './define.js';

/** The `{migration}` path parameter: an id or an alias (see `resolve`). */
export const ref = { params: z.object({ migration: MigrationRef }) };

/** The migration a `{migration}` parameter names: an id (`mig_...`), or an alias's unfinished, else latest, one. */
export async function resolve(service: MigrationService, ref: string): Promise<Migration> {
  if (ref.startsWith('mig_')) return service.get(ref);
  const migration = await service.current(ref);
  if (!migration) {
    throw new ReembedError(
      'NOT_FOUND',
      `Alias "${ref}" has no migration. Start one with POST /v1/migrations.`,
      {
        details: { alias: ref },
      },
    );
  }
  return migration;
}

/** What an action's work is given: the addressed migration, the validated body, and who asks. */
export interface ActionRequest<B> {
  readonly migration: Migration;
  readonly body: B;
  /** `key:<name>` of the request's API key, as the audit log records it. */
  readonly actor: string;
  /** The migration service acting as `actor`. */
  readonly service: MigrationService;
}

/** A JSON request body, as `jsonBody` or `optionalJsonBody` (define.ts) declare it. */
interface ActionBody<S extends ZodType> {
  readonly content: { readonly 'application/json': { readonly schema: S } };
  readonly required: boolean;
}

/** An action on one migration: its document entry (summary, description, body) and its work. */
export interface MigrationAction {
  readonly summary: string;
  /** Said before the access sentence in the document. */
  readonly description?: string;
  readonly body: ActionBody<ZodType>;
  readonly run: (request: ActionRequest<never>) => Promise<object>;
}

/** Declares an action; `run` sees the body as its schema parses it. */
export function action<S extends ZodType>(fields: {
  readonly summary: string;
  readonly description?: string;
  readonly body: ActionBody<S>;
  readonly run: (request: ActionRequest<z.output<S>>) => Promise<object>;
}): MigrationAction {
  return fields;
}

/**
 * Registers each action as `POST /v1/migrations/{migration}/<name>` in a route group, in the order given
 * (the order of the OpenAPI document): the handler resolves `{migration}`, runs the action as the request's
 * key and answers its result as JSON.
 */
export function registerMigrationActions(
  api: OpenAPIHono<ServerEnv>,
  deps: ServerDeps,
  route: ReturnType<typeof routeGroup>,
  actions: Readonly<Record<string, MigrationAction>>,
): void {
  for (const [name, a] of Object.entries(actions)) {
    const endpoint = route(`POST /v1/migrations/{migration}/${name}`, a.summary, {
      request: { ...ref, body: a.body },
      description: a.description,
    });
    api.openapi(endpoint, async (c) => {
      const migration = await resolve(deps.migrations, c.req.valid('param').migration);
      const actor = `key:${c.get('key').name}`;
      const result = await a.run({
        migration,
        body: c.req.valid('json') as never,
        actor,
        service: deps.migrations.asActor(actor),
      });
      return c.json({ ...result }, 200);
    });
  }
}
