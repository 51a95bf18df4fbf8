import type { GateResult } from '../core/gates.js';
import type { Migration } from '../core/migration.js';

/**
 * What to do about a failing gate, by the facts its rule reads. One place, so a refusal at cutover, the
 * "waiting on" line of `migrate step` and `migrate status` all say the same thing — and new ways to satisfy
 * a gate (e.g. replaying queries to collect shadow samples) are added here once.
 */
export function gateHints(migration: Migration, failing: readonly GateResult[]): string[] {
  const facts = new Set(failing.flatMap((r) => [...factsOf(r.rule), ...Object.keys(r.facts ?? {})]));
  const hints: string[] = [];
  const has = (test: (fact: string) => boolean): boolean => [...facts].some(test);
  if (has((f) => f.startsWith('shadow.'))) hints.push(shadowHint(migration));
  if (has((f) => f === 'coverage' || f.startsWith('coverage.'))) {
    hints.push(
      `coverage: finish the backfill (reembed migrate step ${migration.alias}, or reembed backfill run ${migration.alias}).`,
    );
  }
  if (has((f) => f === 'errors' || f === 'deadLetters')) {
    hints.push(
      `errors: inspect dead letters and retry them (reembed backfill retry-dead ${migration.alias}); reembed monitor names foreign or resurrected records.`,
    );
  }
  const quality = (f: string): boolean =>
    !f.startsWith('shadow.') && !f.startsWith('coverage') && f !== 'errors' && f !== 'deadLetters';
  if (has(quality) && !migration.options.golden) {
    hints.push('quality: these rules need a golden set: pass --golden DIR|NAME to the cutover.');
  }
  return hints;
}

/**
 * Shadow agreement comes from queries served through the alias while the migration is `shadowing`: a
 * share (`sampleRate`) of them also reads the new namespace.
 */
function shadowHint(migration: Migration): string {
  const rate = migration.options.sampleRate;
  const phase =
    migration.state === 'shadowing'
      ? ''
      : ` (samples count once the migration is shadowing: reembed migrate step ${migration.alias})`;
  return (
    `shadow samples: serve queries through the alias "${migration.alias}" — your application, or reembed search ${migration.alias} "<query>" — ` +
    `${Math.round(rate * 100)}% of them are also run on ${migration.to} and compared${phase}; ` +
    `then run the cutover again. A lower --min-shadow-samples at migrate start asks for fewer.`
  );
}

/** Fact names a rule reads (identifiers with dots and @k), e.g. `shadow.overlap@10`, `new.ndcg@10`. */
function factsOf(rule: string): string[] {
  return rule.match(/[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*|@\d+)*/g) ?? [];
}
