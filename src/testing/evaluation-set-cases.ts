import { expect } from 'vitest';
import type { Catalog } from '../ports/catalog.js';
import type { EvaluationSetRepository } from '../ports/evaluation-sets.js';
import { expectCode } from './fixtures.js';

/**
 * What the cases every evaluation-set repository shares (golden sets, probe sets) need of one kind: its
 * repository, the catalog whose audit log records it, and two sets of different content.
 */
export interface EvaluationSetKind<TSet extends { readonly digest: string }, TInfo> {
  readonly repository: EvaluationSetRepository<TSet, TInfo>;
  readonly catalog: Catalog;
  /** Prefix of its audit actions: `golden` for `golden.save` / `golden.delete`. */
  readonly audit: string;
  /** A set, and one whose content differs (a new one each call). */
  readonly sample: () => TSet;
  readonly other: () => TSet;
}

/**
 * Saves `kind.sample()` as alice from `source`: the info names the set, its digest, alice and the source
 * (and `fields`), and the list holds exactly it. Returns the set saved and the set read back.
 */
export async function expectSavedAndListed<TSet extends { readonly digest: string }, TInfo>(
  kind: EvaluationSetKind<TSet, TInfo>,
  name: string,
  source: string,
  fields: Readonly<Record<string, unknown>>,
): Promise<{ readonly saved: TSet; readonly back: TSet }> {
  const saved = kind.sample();
  const info = await kind.repository.save(name, saved, { actor: 'alice', source });
  expect(info).toMatchObject({ name, digest: saved.digest, savedBy: 'alice', source, ...fields });
  expect(await kind.repository.list()).toEqual([info]);
  return { saved, back: await kind.repository.get(name) };
}

/**
 * Saving the same content again is a no-op; other content needs `replace`; a delete removes the set (a
 * second one finds nothing); each save that changed something and the delete are in the audit log with
 * their actor (invariant 8); the deleted set is NOT_FOUND.
 */
export async function expectSaveReplaceDelete<TSet extends { readonly digest: string }, TInfo>(
  kind: EvaluationSetKind<TSet, TInfo>,
  name: string,
): Promise<void> {
  const { repository } = kind;
  await repository.save(name, kind.sample(), { actor: 'alice' });
  await repository.save(name, kind.sample(), { actor: 'bob' });
  await expectCode(repository.save(name, kind.other(), { actor: 'bob' }), 'ALREADY_EXISTS');
  await repository.save(name, kind.other(), { actor: 'bob', replace: true });
  expect((await repository.get(name)).digest).toBe(kind.other().digest);
  expect(await repository.delete(name, { actor: 'carol' })).toBe(true);
  expect(await repository.delete(name, { actor: 'carol' })).toBe(false);
  const audit = (await kind.catalog.listAudit({ subject: name })).filter((a) =>
    a.action.startsWith(`${kind.audit}.`),
  );
  expect(audit.map((a) => [a.action, a.actor]).sort()).toEqual([
    [`${kind.audit}.delete`, 'carol'],
    [`${kind.audit}.save`, 'alice'],
    [`${kind.audit}.save`, 'bob'],
  ]);
  await expectCode(repository.get(name), 'NOT_FOUND');
}
