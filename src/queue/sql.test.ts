import { describe, expect, it } from 'vitest';
import { isDatabaseFailure } from './db-retry.js';
import * as Q from './sql.js';

/** The queue's SQL as strings (no database): identifiers validated, the rules that matter spelled out. */
describe('queue SQL', () => {
  it('names the job-queue schema after reembed’s and refuses what Postgres would truncate or misread', () => {
    expect(Q.workerSchemaOf('reembed')).toBe('reembed_worker');
    expect(() => Q.workerSchemaOf('x'.repeat(57))).toThrow(/too long/);
    expect(() => Q.queueDdl('Bad-Schema')).toThrow(/not a valid SQL identifier/);
    expect(Q.rangeKey('backfill:docs@v2:distributed', 3, 17)).toBe('backfill:docs@v2:distributed#g3#r17');
  });

  it('orders ranges in byte order and ties completion to the checkpoint committed with the batch', () => {
    const ddl = Q.queueDdl('s').join('\n');
    expect(ddl).toContain('after_id text COLLATE "C"');
    expect(ddl).toContain('CHECK (last_id > after_id)');
    expect(Q.finishPlanSql('s')).toContain(`c.cursor IS DISTINCT FROM '${Q.RANGE_DONE}'`);
    // A delivery reads its range, checkpoint and dead-letter flag and claims it in one statement, but only
    // a range of the current generation that is not done yet.
    const start = Q.startRangeSql('s');
    expect(start).toContain('LEFT JOIN "s"."checkpoints" c ON c.job_id = r.key');
    expect(start).toContain(
      `WHERE q.key = r.key AND r.generation = r.current_generation AND r.saved_cursor IS DISTINCT FROM '${Q.RANGE_DONE}'`,
    );
    // Finishing a range records its statistics and tries to finish the plan in the same statement.
    const finish = Q.finishRangeSql('s');
    expect(finish).toContain('WHERE key = $1');
    expect(finish).toContain('WHERE p.id = $6 AND p.finished_at IS NULL');
    expect(Q.pendingRangesSql('s')).toContain('"s_worker"."jobs"');
    expect(Q.pendingRangesSql('s')).toContain('j.locked_at IS NOT NULL');
    expect(Q.nextBoundarySql('s')).toMatch(/ORDER BY id LIMIT \$3/);
  });

  it('takes from a shared bucket only when the refilled level covers the request, in database time', () => {
    const take = Q.takeBucketSql('s');
    expect(take).toContain('clock_timestamp()');
    expect(take).toContain('>= least($2::float8, b.capacity)');
    expect(Q.staleOwnersSql('s')).toContain('w.heartbeat_at > clock_timestamp() - w.lease_ms');
    expect(Q.outstandingSql('s', "it's")).toContain("'it''s'");
  });

  it('retries database failures only', () => {
    expect(
      isDatabaseFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isDatabaseFailure(new TypeError('x is undefined'))).toBe(false);
  });
});
