import type { OpenAPIHono } from '@hono/zod-openapi';
import { reviewQueue, saveReviewJudgments } from '../../app/review.js';
import type { ServerDeps, ServerEnv } from '../env.js';
import { ReviewQuery, ReviewRequest } from '../schemas.js';
import { ADMIN_ONLY, jsonBody, routeGroup } from './define.js';
import { action, ref, registerMigrationActions, resolve } from './migration-action.js';

/**
 * The shadow-diff review queue: what the new namespace loses and gains against the old for sampled
 * queries, and the reviewer's judgments stored as a golden set the gates can evaluate.
 */
const route = routeGroup('review', ADMIN_ONLY);

const queue = route(
  'GET /v1/migrations/{migration}/review',
  'Queries whose top k differs between the old and new namespace, with the lost and gained documents',
  {
    request: { ...ref, query: ReviewQuery },
    description:
      'Queries come from the served queries the migration keeps (keepQueries), else from its probe set. Each is searched exactly in both namespaces; documents carry their text and both ranks. Judged queries are left out unless reviewed=true.',
  },
);

export function registerReviewRoutes(api: OpenAPIHono<ServerEnv>, deps: ServerDeps): void {
  api.openapi(queue, async (c) => {
    const migration = await resolve(deps.migrations, c.req.valid('param').migration);
    const q = c.req.valid('query');
    const result = await reviewQueue(deps.app, migration, {
      ...(q.source ? { source: q.source } : {}),
      ...(q.limit ? { limit: Math.max(1, Math.min(100, Number(q.limit))) } : {}),
      ...(q.k ? { k: Math.max(1, Math.min(100, Number(q.k))) } : {}),
      ...(q.golden ? { golden: q.golden } : {}),
      ...(q.reviewed === 'true' ? { includeReviewed: true } : {}),
    });
    return c.json({ ...result }, 200);
  });

  registerMigrationActions(api, deps, route, {
    review: action({
      summary: 'Store judgments (relevant or not) into the review golden set',
      description:
        'Merged into the golden set `review-<alias>` (or `golden`), grade 1 relevant and 0 not; evaluate the gates on it with `cutover {"golden": "review-<alias>"}` or POST .../gates.',
      body: jsonBody(ReviewRequest),
      run: ({ migration, body, actor }) =>
        saveReviewJudgments(deps.app, migration, body.judgments, {
          actor,
          ...(body.golden ? { golden: body.golden } : {}),
        }),
    }),
  });
}
