import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { SourceInput } from '../../core/records.js';
import type { ApiKey } from '../../ports/api-keys.js';
import { refusal } from '../auth.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { apiError, describeIssues, sendError } from '../errors.js';
import { fastSearchBody } from '../fast-search.js';
import { DeleteRequest, NAME, Name, SearchRequest, SearchResponse, UpsertRequest } from '../schemas.js';
import { jsonBody, routeGroup } from './define.js';

/**
 * The data plane: search an alias, upsert and delete source documents. A tenant-bound key is confined to
 * its tenant whatever the request says: its searches are filtered to it, its documents are written under
 * it, and its deletes only ever touch it.
 */
const SEARCH_ACCESS = { scope: 'query', tenantKeys: true } as const;
const route = routeGroup('data', { scope: 'write', tenantKeys: true });

const search = route(
  'POST /v1/aliases/{alias}/search',
  'Search an alias (text, or a vector with its declared space)',
  {
    request: { params: z.object({ alias: Name('docs') }), body: jsonBody(SearchRequest) },
    description:
      'Answers through the alias routing (single, shadow, split, fused); every hit carries its provenance (fingerprint, source version, embedding time) and the trace names each namespace read.',
    need: SEARCH_ACCESS,
    returns: SearchResponse,
  },
);

const upsert = route(
  'POST /v1/collections/{collection}/documents',
  'Upsert source documents (all-or-nothing), written to every writable namespace',
  { request: { params: z.object({ collection: Name('docs') }), body: jsonBody(UpsertRequest) } },
);

const remove = route(
  'POST /v1/collections/{collection}/documents/delete',
  'Delete source documents by id (unknown ids are ignored)',
  { request: { params: z.object({ collection: Name('docs') }), body: jsonBody(DeleteRequest) } },
);

const SearchParams = z.object({ alias: Name('docs') });

export function registerDataRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  // The hot route, registered by hand: the same document entry as `api.openapi`, and in one handler the
  // steps its middleware would take one layer each, in the same order with the same functions — access
  // (`refusal`, as `requires`), the path, then the body (read as hono's json validator reads it), with a
  // shortcut past zod for the common text search (see fast-search.ts). Three fewer layers (the CPU saved: BENCHMARKS.md,
  // "Figures behind code choices"); test/server/search-route.test.ts holds it to the layered route.
  const { middleware: _access, ...documented } = search;
  api.openAPIRegistry.registerPath(documented);
  api.post('/v1/aliases/:alias/search', async (c) => {
    const key = c.get('key');
    const refused = refusal(key, SEARCH_ACCESS);
    if (refused) return sendError(c, refused);
    const params = c.req.param();
    const alias = NAME.test(params.alias) ? params.alias : viaSchema(SearchParams, params, 'path', c);
    if (alias instanceof Response) return alias;
    const value = await jsonOf(c);
    const body = fastSearchBody(value) ?? viaSchema(SearchRequest, value, 'request body', c);
    if (body instanceof Response) return body;
    const filter = key.tenant === null ? body.filter : { ...body.filter, tenant: key.tenant };
    const response = await deps.app.search(typeof alias === 'string' ? alias : alias.alias, {
      ...body,
      ...(filter ? { filter } : {}),
    });
    return c.json(response as z.infer<typeof SearchResponse>, 200);
  });

  api.openapi(upsert, async (c) => {
    const { collection } = c.req.valid('param');
    const body = c.req.valid('json');
    const key = c.get('key');
    const docs =
      key.tenant === null ? body.documents : await confineWrites(deps, collection, key, body.documents);
    const result = await deps.app.ingest(
      collection,
      docs,
      body.onDeleted ? { onDeleted: body.onDeleted } : {},
    );
    return c.json({ ...result }, 200);
  });

  api.openapi(remove, async (c) => {
    const { collection } = c.req.valid('param');
    const { ids } = c.req.valid('json');
    const key = c.get('key');
    let allowed = ids;
    if (key.tenant !== null) {
      await deps.app.backend.catalog.getCollection(collection);
      const held = await deps.app.backend.sources.getMany(collection, ids);
      // Ids of other tenants are treated exactly like unknown ids: ignored, and not counted.
      allowed = ids.filter((id) => held.get(id)?.tenant === key.tenant);
      if (allowed.length === 0) return c.json({ deleted: 0, namespaces: {} }, 200);
    }
    const result = await deps.app.delete(collection, allowed);
    return c.json({ ...result }, 200);
  });
}

/**
 * A tenant-bound key's documents: written under its tenant (a document naming another tenant is refused),
 * and never over an id another tenant holds. Document ids are unique per collection, so refusing that one
 * reveals that the id is taken; give tenants' documents tenant-prefixed ids when that matters.
 */
async function confineWrites(
  deps: ServerDeps,
  collection: string,
  key: ApiKey,
  docs: readonly z.infer<typeof UpsertRequest>['documents'][number][],
): Promise<SourceInput[]> {
  const tenant = key.tenant as string;
  const out = docs.map((d, i) => {
    if (d.tenant !== undefined && d.tenant !== null && d.tenant !== tenant) {
      throw apiError(
        'FORBIDDEN',
        `document ${i}: this key writes only its own tenant's documents; drop the tenant field.`,
        {
          index: i,
        },
      );
    }
    return { ...d, id: String(d.id), tenant, metadata: d.metadata ?? {} };
  });
  await deps.app.backend.catalog.getCollection(collection);
  const held = await deps.app.backend.sources.getMany(
    collection,
    out.map((d) => d.id),
  );
  const foreign = out.findIndex((d) => {
    const existing = held.get(d.id);
    return existing !== undefined && existing.tenant !== tenant;
  });
  if (foreign >= 0) {
    throw apiError(
      'FORBIDDEN',
      `document ${foreign}: its id is not available to this key; nothing was written.`,
      {
        index: foreign,
      },
    );
  }
  return out;
}

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * The request body as hono's `validator('json', ...)` reads it: parsed when the media type is JSON
 * (malformed JSON is a 400 `HTTPException`, which `onError` answers as INVALID_INPUT), else `{}`.
 */
async function jsonOf(c: Context): Promise<unknown> {
  const contentType = c.req.header('Content-Type');
  const mediaType = contentType ? (contentType.split(';')[0] as string).trim().toLowerCase() : '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) return {};
  try {
    return await c.req.json();
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
}

/** The schema's answer: its data, or its typed 400 (what the default hook of `api.openapi` answers). */
function viaSchema<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  where: string,
  c: Context,
): z.infer<S> | Response {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  return sendError(c, apiError('INVALID_INPUT', describeIssues(where, result.error.issues)));
}
