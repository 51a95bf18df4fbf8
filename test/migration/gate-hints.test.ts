import { describe, expect, it } from 'vitest';
import { gateHints } from '../../src/app/gate-hints.js';
import { resolveMigrationOptions } from '../../src/app/migrate-options.js';
import { evaluateGates } from '../../src/core/gates.js';
import type { Migration } from '../../src/core/migration.js';

/**
 * How to pass each kind of failing gate, by the facts its rule reads: probe gates point at the probe's
 * figures (and `reembed probe eval`), never at "these rules need a golden set"; rules on judged metrics
 * do; shadow rules without samples point at `migrate replay`.
 */
function migration(options: Record<string, unknown>, state: Migration['state'] = 'shadowing'): Migration {
  return {
    kind: 'migration',
    id: 'mig-1',
    collection: 'docs',
    alias: 'docs',
    from: 'docs@v1',
    to: 'docs@v2',
    strategy: 'shadow',
    state,
    options: resolveMigrationOptions('shadow', options),
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    completedAt: null,
    info: {},
  };
}

const failing = (rules: string[], facts: Record<string, number>) =>
  evaluateGates(rules, facts).filter((r) => !r.passed);

describe('gate hints', () => {
  it('a failing probe gate points at the probe figures and probe eval, not at a golden set', () => {
    const m = migration({ probe: 'docs' });
    const hints = gateHints(
      m,
      failing(['probe.mrr@10 >= old - 0.01', 'probe.recall@10 >= old - 0.02'], {
        'new.probe.mrr@10': 0.2,
        'old.probe.mrr@10': 0.6,
        'new.probe.recall@10': 0.3,
        'old.probe.recall@10': 0.8,
      }),
    );
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/^probe: /);
    expect(hints[0]).toContain('reembed probe eval docs --old docs@v1 --new docs@v2');
    expect(hints[0]).toContain('reembed migrate rollback docs');
    expect(hints.join(' ')).not.toContain('these rules need a golden set');
  });

  it('a failing judged-metric rule without a golden set asks for one', () => {
    const m = migration({ probe: false, gates: ['recall@10 >= 0.9'] });
    const hints = gateHints(m, failing(['recall@10 >= 0.9'], { 'new.recall@10': 0.5 }));
    expect(hints).toEqual(['quality: these rules need a golden set: pass --golden DIR|NAME to the cutover.']);
  });

  it('shadow rules without samples point at migrate replay (the probe when there is one, else a file)', () => {
    const rules = ['shadow.samples >= 20', 'shadow.overlap >= 0.05'];
    const withProbe = gateHints(migration({ probe: 'docs' }), failing(rules, { 'shadow.samples': 0 }));
    expect(withProbe).toHaveLength(1);
    expect(withProbe[0]).toContain("reembed migrate replay docs (its probe's queries");
    const without = gateHints(migration({ probe: false }), failing(rules, { 'shadow.samples': 0 }));
    expect(without[0]).toContain('reembed migrate replay docs (queries of yours: --file queries.jsonl');
  });

  it('low agreement with enough samples is not a sample problem', () => {
    const hints = gateHints(
      migration({ probe: 'docs' }),
      failing(['shadow.overlap >= 0.05'], { 'shadow.samples': 300, 'shadow.overlap': 0.01 }),
    );
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/^shadow agreement: /);
  });

  it('an unmeasured quality gate asks for a judged set once', () => {
    const hints = gateHints(
      migration({ probe: false }),
      failing(['quality.measured >= 1'], { 'quality.measured': 0 }),
    );
    expect(hints).toEqual(['quality: pass a judged golden set to the cutover (--golden DIR|NAME).']);
  });
});
