import { describe, expect, it } from 'vitest';
import { defineSpace } from '../core/space.js';
import type { Catalog } from '../ports/catalog.js';
import type { SourceRepository } from '../ports/sources.js';
import { expectCode, testSpace } from './fixtures.js';
import { describeSourceRepository } from './sources-suite.js';
import { describeSuite, type SuiteOptions } from './suite.js';

export interface CatalogHarness {
  readonly catalog: Catalog;
  /** The source repository of the same backend (collections live in the catalog). */
  readonly sources: SourceRepository;
  cleanup(): Promise<void>;
}

export type CatalogSuiteOptions = SuiteOptions<CatalogHarness>;

/** What the suite's test groups receive: the catalog and sources of the current test. */
export type CatalogContext = Omit<CatalogHarness, 'cleanup'>;

const v1 = testSpace('cat-v1');
const v1Renamed = testSpace('cat-v1', { model: 'another-model' });
const v2 = testSpace('cat-v2');

/**
 * The conformance suite of the control plane and source retention: idempotent spaces, compare-and-set
 * aliases, an audit entry with actor for every mutation (invariant 8), monotonic source versions.
 */
export function testCatalog(options: CatalogSuiteOptions): void {
  describeSuite('Catalog conformance', options, (ctx) => {
    describeControlPlane(ctx);
    describeSourceRepository(ctx);
  });
}

async function seed(ctx: CatalogContext): Promise<void> {
  await ctx.catalog.addSpace(v1, 'alice');
  await ctx.catalog.addSpace(v2, 'alice');
  await ctx.catalog.createCollection('docs', 'alice');
  await ctx.catalog.createNamespace({ collection: 'docs', space: v1, state: 'serving' }, 'alice');
  await ctx.catalog.createNamespace(
    { collection: 'docs', space: v2, state: 'building', createdFrom: 'docs@cat-v1' },
    'bob',
  );
}

function describeControlPlane(ctx: CatalogContext): void {
  describe('spaces', () => {
    it('adds a space idempotently and returns it frozen, by name or fingerprint', async () => {
      const added = await ctx.catalog.addSpace(v1, 'alice');
      const again = await ctx.catalog.addSpace(v1, 'alice');
      expect(again).toEqual(added);
      expect(added).toMatchObject({ kind: 'space', name: 'cat-v1', fingerprint: v1.fingerprint });
      expect(Object.isFrozen(added)).toBe(true);
      expect((await ctx.catalog.getSpace(v1.fingerprint)).name).toBe('cat-v1');
      expect((await ctx.catalog.getSpace('cat-v1')).spec).toEqual(v1.spec);
      expect((await ctx.catalog.listSpaces()).map((s) => s.name)).toEqual(['cat-v1']);
      expect(await ctx.catalog.listAudit({ action: 'space.add' })).toHaveLength(1);
    });

    it('refuses a known name for another definition, and names known spaces when one is missing', async () => {
      await ctx.catalog.addSpace(v1, 'alice');
      await ctx.catalog.addSpace(v2, 'alice');
      const conflict = await expectCode(ctx.catalog.addSpace(v1Renamed, 'alice'), 'CONFLICT');
      expect(conflict.message).toContain(`spec.model "cat-v1" → "another-model"`);
      expect(conflict.details.fields).toEqual(['spec.model']);
      // Same geometry, other operational settings: not identical either, and the field is named.
      const priced = defineSpace(v1.name, v1.spec, { ...v1.runtime, pricePerMillionTokens: 0.13 });
      const runtime = await expectCode(ctx.catalog.addSpace(priced, 'alice'), 'CONFLICT');
      expect(runtime.details.fields).toEqual(['runtime.pricePerMillionTokens']);
      expect((await ctx.catalog.getSpace('cat-v1')).fingerprint).toBe(v1.fingerprint);
      expect(await ctx.catalog.listAudit({ action: 'space.add' })).toHaveLength(2);
      const error = await expectCode(ctx.catalog.getSpace('nope'), 'NOT_FOUND');
      expect(error.message).toContain('cat-v1');
      expect(error.message).toContain('cat-v2');
    });
  });

  describe('collections, namespaces and aliases', () => {
    it('creates collections and namespaces named collection@space, refusing duplicates', async () => {
      await seed(ctx);
      await expectCode(ctx.catalog.createCollection('docs', 'alice'), 'ALREADY_EXISTS');
      await expectCode(ctx.catalog.getCollection('missing'), 'NOT_FOUND');
      await expectCode(
        ctx.catalog.createNamespace({ collection: 'docs', space: v1, state: 'building' }, 'a'),
        'ALREADY_EXISTS',
      );
      await expectCode(
        ctx.catalog.createNamespace({ collection: 'nope', space: v1, state: 'building' }, 'a'),
        'NOT_FOUND',
      );
      const ns = await ctx.catalog.getNamespace('docs@cat-v2');
      expect(ns).toMatchObject({
        kind: 'namespace',
        collection: 'docs',
        state: 'building',
        createdFrom: 'docs@cat-v1',
      });
      expect(ns.space.fingerprint).toBe(v2.fingerprint);
      expect((await ctx.catalog.listNamespaces('docs')).map((n) => n.name)).toEqual([
        'docs@cat-v1',
        'docs@cat-v2',
      ]);
      expect(await ctx.catalog.listNamespaces('other')).toEqual([]);
      await expectCode(ctx.catalog.getNamespace('docs@nope'), 'NOT_FOUND');
    });

    it('changes namespace state and merges info', async () => {
      await seed(ctx);
      const retired = await ctx.catalog.setNamespaceState('docs@cat-v1', 'retired', 'carol');
      expect(retired.state).toBe('retired');
      expect(retired.retiredAt).not.toBeNull();
      await ctx.catalog.updateNamespaceInfo('docs@cat-v2', { coverage: 0.5 });
      const info = (await ctx.catalog.updateNamespaceInfo('docs@cat-v2', { checkpoint: 'x' })).info;
      expect(info).toEqual({ coverage: 0.5, checkpoint: 'x' });
      await expectCode(
        ctx.catalog.setNamespaceState('docs@cat-v2', 'bogus' as never, 'carol'),
        'INVALID_INPUT',
      );
    });

    it('sets aliases with compare-and-set versions', async () => {
      await seed(ctx);
      const a1 = await ctx.catalog.setAlias(
        'docs',
        'docs',
        { kind: 'single', namespace: 'docs@cat-v1' },
        'alice',
      );
      expect(a1).toMatchObject({ kind: 'alias', name: 'docs', collection: 'docs', version: 1 });
      const split = {
        kind: 'split',
        primary: 'docs@cat-v1',
        next: 'docs@cat-v2',
        percent: 10,
        tenants: [],
      } as const;
      const a2 = await ctx.catalog.setAlias('docs', 'docs', split, 'bob', { expectedVersion: 1 });
      expect(a2.version).toBe(2);
      const stale = ctx.catalog.setAlias(
        'docs',
        'docs',
        { kind: 'single', namespace: 'docs@cat-v2' },
        'eve',
        {
          expectedVersion: 1,
        },
      );
      await expectCode(stale, 'CONFLICT');
      expect(await ctx.catalog.getAlias('docs')).toEqual(a2);
      await expectCode(
        ctx.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@nope' }, 'a'),
        'NOT_FOUND',
      );
      await expectCode(ctx.catalog.getAlias('missing'), 'NOT_FOUND');
      expect((await ctx.catalog.listAliases('docs')).map((a) => a.name)).toEqual(['docs']);
    });
  });

  describe('audit log', () => {
    it('records every mutation in order with its actor', async () => {
      await seed(ctx);
      await ctx.catalog.setNamespaceState('docs@cat-v2', 'active', 'carol');
      await ctx.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@cat-v1' }, 'dave', {
        reason: 'launch',
      });
      await ctx.catalog.audit('erin', 'gate.forced', 'docs', { gate: 'ndcg' });
      const log = await ctx.catalog.listAudit();
      expect(log.map((e) => [e.action, e.subject, e.actor])).toEqual([
        ['space.add', 'cat-v1', 'alice'],
        ['space.add', 'cat-v2', 'alice'],
        ['collection.create', 'docs', 'alice'],
        ['namespace.create', 'docs@cat-v1', 'alice'],
        ['namespace.create', 'docs@cat-v2', 'bob'],
        ['namespace.state', 'docs@cat-v2', 'carol'],
        ['alias.set', 'docs', 'dave'],
        ['gate.forced', 'docs', 'erin'],
      ]);
      const ids = log.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(log.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
      expect(log[5]?.details).toMatchObject({ from: 'building', to: 'active' });
      expect(log[7]?.details).toEqual({ gate: 'ndcg' });
      expect((await ctx.catalog.listAudit({ subject: 'docs@cat-v2' })).map((e) => e.action)).toEqual([
        'namespace.create',
        'namespace.state',
      ]);
      expect((await ctx.catalog.listAudit({ limit: 2 })).map((e) => e.action)).toEqual([
        'alias.set',
        'gate.forced',
      ]);
    });

    it('only ever appends: earlier entries never change, refused mutations add nothing', async () => {
      await seed(ctx);
      const before = await ctx.catalog.listAudit();
      await ctx.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@cat-v1' }, 'dave');
      await expectCode(
        ctx.catalog.setAlias('docs', 'docs', { kind: 'single', namespace: 'docs@cat-v2' }, 'eve', {
          expectedVersion: 7,
        }),
        'CONFLICT',
      );
      await expectCode(ctx.catalog.addSpace(v1Renamed, 'mallory'), 'CONFLICT');
      const after = await ctx.catalog.listAudit();
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.slice(before.length).map((e) => e.actor)).toEqual(['dave']);
    });
  });
}
