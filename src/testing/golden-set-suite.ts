import { expect, it } from 'vitest';
import type { GoldenSet } from '../core/golden.js';
import type { Catalog } from '../ports/catalog.js';
import type { GoldenSetInfo, GoldenSetRepository } from '../ports/evaluation-sets.js';
import {
  type EvaluationSetKind,
  expectSavedAndListed,
  expectSaveReplaceDelete,
} from './evaluation-set-cases.js';
import { expectCode, goldenSetOf } from './fixtures.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface GoldenSetHarness {
  readonly goldenSets: GoldenSetRepository;
  /** The catalog of the same backend (its audit log receives `golden.save` / `golden.delete`). */
  readonly catalog: Catalog;
  /** Runs raw SQL against the backend (to tamper with a stored row). */
  readonly raw: (sql: string) => Promise<void>;
  /** Runs a counting query (`SELECT COUNT(*) AS n ...`) against the backend. */
  readonly count: (sql: string) => Promise<number>;
  /** The qualified name of a golden-set table in raw SQL (`golden_qrels`, `golden_queries`). */
  readonly table: (name: 'golden_qrels' | 'golden_queries') => string;
  cleanup(): Promise<void>;
}

export type GoldenSetSuiteOptions = SuiteOptions<GoldenSetHarness>;

/** Graded judgments, a query listed out of id order, skipped queries and judgments: every field to keep. */
export function sampleGolden(extra = false): GoldenSet {
  return goldenSetOf(
    'file-name',
    {
      q2: 'second query, listed first — naïve',
      q1: 'first query',
      q3: 'never judged',
      q4: 'judged non-relevant only',
    },
    {
      q1: { d1: 3, d2: 0 },
      q2: { d9: 1, D10: 0.5, ...(extra ? { d10: 2 } : {}) },
      q4: { d1: 0 },
      ghost: { d1: 1 },
    },
  );
}

/**
 * The conformance suite of golden-set repositories: a stored set comes back equal (queries in order,
 * graded judgments, skipped counts, same digest), saving the same content is a no-op, other content needs
 * `replace`, a tampered row is detected, a delete removes every row, and every save and delete is in the
 * audit log (invariant 8).
 */
export function testGoldenSetRepository(options: GoldenSetSuiteOptions): void {
  describeSuite('Golden set repository', options, (h) => {
    const kind = (): EvaluationSetKind<GoldenSet, GoldenSetInfo> => ({
      repository: h.goldenSets,
      catalog: h.catalog,
      audit: 'golden',
      sample: () => sampleGolden(),
      other: () => sampleGolden(true),
    });

    it('round-trips queries in order, graded judgments, skipped counts and the digest', async () => {
      const { saved, back } = await expectSavedAndListed(kind(), 'mini', '/data/mini', {
        kind: 'golden-set-info',
        queries: 2,
        judgments: 4,
      });
      expect(back.name).toBe('mini');
      expect(back.digest).toBe(saved.digest);
      expect(back.queries).toEqual(saved.queries);
      expect(back.queries.map((q) => q.id)).toEqual(['q2', 'q1']);
      expect(back.qrels).toEqual({ q1: { d1: 3, d2: 0 }, q2: { d9: 1, D10: 0.5 } });
      expect(back.skipped).toEqual({ noJudgments: 1, noRelevant: 1, judgmentsWithoutQuery: 1 });
      expect(back.judgments).toBe(4);
      const audit = await h.catalog.listAudit({ action: 'golden.save' });
      expect(audit).toEqual([expect.objectContaining({ actor: 'alice', subject: 'mini' })]);
    });

    it('saving the same content is a no-op; other content needs replace; every change is audited', async () => {
      await expectSaveReplaceDelete(kind(), 'mini');
      expect(await h.count(`SELECT COUNT(*) AS n FROM ${h.table('golden_qrels')}`)).toBe(0);
      expect(await h.count(`SELECT COUNT(*) AS n FROM ${h.table('golden_queries')}`)).toBe(0);
    });

    it('names the stored sets when one is missing, refuses bad names and detects edited rows', async () => {
      await h.goldenSets.save('mini', sampleGolden());
      await expect(h.goldenSets.get('maxi')).rejects.toThrow(
        /No stored golden set "maxi". Stored sets: mini/,
      );
      await expectCode(h.goldenSets.save('../etc', sampleGolden()), 'INVALID_INPUT');
      await h.raw(
        `UPDATE ${h.table('golden_qrels')} SET grade = 1 WHERE set_name = 'mini' AND doc_id = 'd1'`,
      );
      const error = await expectCode(h.goldenSets.get('mini'), 'STORE_FAILED');
      expect(error.message).toMatch(/does not match its digest/);
    });
  });
}
