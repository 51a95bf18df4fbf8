import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { compareProbe } from '../../app/probe-compare.js';
import {
  createProbeSet,
  evaluateProbe,
  probeName,
  requireProbes,
  resolveProbeSet,
} from '../../app/probes.js';
import type { ProbeParamsInput } from '../../core/probe.js';
import { servingNamespaceOf } from '../../core/routing.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { JsonList, Name, ProbeCreateRequest, ProbeEvalRequest, ProbeShowQuery } from '../schemas.js';
import { ADMIN_ONLY, jsonBody, routeGroup } from './define.js';

/** Probe sets over the API: `reembed probe create | show | eval`. Figures are always labelled probe. */
const route = routeGroup('probes', ADMIN_ONLY);
const named = { params: z.object({ name: Name('docs') }) };

const list = route('GET /v1/probes', 'Stored probe sets', { returns: JsonList });

const create = route(
  'POST /v1/probes',
  "Build a probe set from a collection's own documents and store it as probe:<name>",
  { request: { body: jsonBody(ProbeCreateRequest) } },
);

const show = route(
  'GET /v1/probes/{name}',
  'One probe set: its parameters, population and a sample of its queries',
  { request: { ...named, query: ProbeShowQuery } },
);

const evaluate = route(
  'POST /v1/probes/{name}/eval',
  'Score a namespace (or an alias, or old and new with the difference and its significance)',
  {
    request: { ...named, body: jsonBody(ProbeEvalRequest) },
    description: 'Reads only: known-item queries cut from the collection, not judged relevance.',
  },
);

export function registerProbeRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  const { app } = deps;
  api.openapi(list, async (c) => c.json([...(await requireProbes(app.backend).list())], 200));

  api.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const actor = Object.create(app, { actor: { value: `key:${c.get('key').name}` } }) as typeof app;
    const { probe, info } = await createProbeSet(actor, body.collection, {
      ...(body.name ? { name: probeName(body.name) } : {}),
      params: (body.params ?? {}) as ProbeParamsInput,
      ...(body.replace ? { replace: true } : {}),
      signal: deps.shutdown,
    });
    return c.json({ ...info, queries: probe.queries.length }, 200);
  });

  api.openapi(show, async (c) => {
    const { name } = c.req.valid('param');
    const set = await resolveProbeSet(app.backend, name);
    const info = (await requireProbes(app.backend).list()).find((s) => s.name === set.name);
    const n = Number(c.req.valid('query').queries ?? 5);
    return c.json(
      { ...info, params: set.params, population: set.population, sample: set.queries.slice(0, n) },
      200,
    );
  });

  api.openapi(evaluate, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    const set = await resolveProbeSet(app.backend, name);
    const options = { signal: deps.shutdown, ...(body.ks ? { ks: body.ks } : {}) };
    if (body.old && body.new) {
      const comparison = await compareProbe(app, body.old, body.new, set, options);
      const { old, new: next, ...rest } = comparison;
      return c.json({ ...rest, old: withoutPerQuery(old), new: withoutPerQuery(next) }, 200);
    }
    const namespace = body.alias
      ? servingNamespaceOf((await app.backend.catalog.getAlias(body.alias)).routing)
      : (body.namespace as string);
    const result = await evaluateProbe(app, namespace, set, options);
    return c.json(withoutPerQuery(result), 200);
  });
}

/** Per-query rows are large and only for offline analysis: the API answers the figures. */
function withoutPerQuery<T extends { perQuery: unknown }>(e: T): Omit<T, 'perQuery'> {
  const { perQuery: _drop, ...rest } = e;
  return rest;
}
