import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { evaluateAlias, evaluateNamespace } from '../../app/evaluate.js';
import { requireGoldenSets } from '../../app/golden-sets.js';
import { assertGoldenName, GoldenSetBuilder } from '../../core/golden.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { apiError } from '../errors.js';
import { EvalRequest, GoldenSetBody, JsonList, Name } from '../schemas.js';
import { ADMIN_ONLY, jsonBody, routeGroup } from './define.js';

/** Evaluation on stored golden sets, and the golden sets themselves (by name; never a server path). */
const route = routeGroup('eval', ADMIN_ONLY);
const named = { params: z.object({ name: Name('scifact') }) };

const evaluate = route(
  'POST /v1/eval',
  'Evaluate an alias or a namespace on a stored golden set (recall, MRR, nDCG)',
  {
    request: { body: jsonBody(EvalRequest) },
    description: 'Reads only: evaluation queries are not traffic, shadow samples or lazy re-embeds.',
  },
);

const listSets = route('GET /v1/golden-sets', 'Stored golden sets', { returns: JsonList });

const saveSet = route(
  'PUT /v1/golden-sets/{name}',
  'Store a golden set (queries and graded judgments); the same content again is a no-op',
  { request: { ...named, body: jsonBody(GoldenSetBody) } },
);

const deleteSet = route('DELETE /v1/golden-sets/{name}', 'Remove a stored golden set', { request: named });

export function registerEvalRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  const { app } = deps;
  api.openapi(evaluate, async (c) => {
    const body = c.req.valid('json');
    const golden = await requireGoldenSets(app.backend).get(body.golden);
    const options = {
      signal: deps.shutdown,
      ...(body.ks ? { ks: body.ks } : {}),
      ...(body.exact ? { exact: true } : {}),
      ...(body.allowUnknownDocs ? { allowUnknownDocs: true } : {}),
    };
    const result = body.alias
      ? await evaluateAlias(app, body.alias, golden, options)
      : await evaluateNamespace(app, body.namespace as string, golden, options);
    return c.json({ ...result }, 200);
  });

  api.openapi(listSets, async (c) => c.json(await requireGoldenSets(app.backend).list(), 200));

  api.openapi(saveSet, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    assertGoldenName(name);
    const builder = new GoldenSetBuilder(name);
    for (const q of body.queries) builder.addQuery(q.id, q.text);
    for (const j of body.judgments) builder.addJudgment(j.queryId, j.docId, j.grade);
    const info = await requireGoldenSets(app.backend).save(name, builder.build(), {
      source: 'api',
      actor: `key:${c.get('key').name}`,
      ...(body.replace ? { replace: true } : {}),
    });
    return c.json({ ...info }, 200);
  });

  api.openapi(deleteSet, async (c) => {
    const { name } = c.req.valid('param');
    const repository = requireGoldenSets(app.backend);
    if (!repository.delete) throw apiError('UNSUPPORTED', 'This backend cannot delete golden sets.');
    const removed = await repository.delete(name, { actor: `key:${c.get('key').name}` });
    if (!removed) throw apiError('NOT_FOUND', `No stored golden set "${name}".`, { name });
    return c.json({ removed: name }, 200);
  });
}
