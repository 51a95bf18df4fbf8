import type { GateResult } from '../core/gates.js';
import type { Migration } from '../core/migration.js';

/**
 * What to do about failing gates, one hint per kind of fact the failing rules read. One place, so a
 * refusal at cutover, the "waiting on" line of `migrate step` and a held rollout all say the same thing.
 * What failed (with the figures that decided, e.g. both spaces' probe scores) is `refusalReasons`
 * (migrate-gates.ts); these hints say how to pass.
 */
export function gateHints(migration: Migration, failing: readonly GateResult[]): string[] {
  const kinds = new Set(failing.map(kindOf));
  const hints: string[] = [];
  if (kinds.has('shadow-samples')) hints.push(shadowSamplesHint(migration));
  if (kinds.has('shadow-agreement')) hints.push(shadowAgreementHint(migration));
  if (kinds.has('coverage')) {
    hints.push(
      `coverage: finish the backfill (reembed migrate step ${migration.alias}, or reembed backfill run ${migration.alias}).`,
    );
  }
  if (kinds.has('errors')) {
    hints.push(
      `errors: inspect dead letters and retry them (reembed backfill retry-dead ${migration.alias}); reembed monitor names foreign or resurrected records.`,
    );
  }
  if (kinds.has('probe')) hints.push(probeHint(migration));
  if (kinds.has('unmeasured')) hints.push(unmeasuredHint());
  if (kinds.has('quality') && !migration.options.golden) {
    hints.push('quality: these rules need a golden set: pass --golden DIR|NAME to the cutover.');
  }
  return hints;
}

type GateKind =
  | 'shadow-samples'
  | 'shadow-agreement'
  | 'coverage'
  | 'errors'
  | 'probe'
  | 'unmeasured'
  | 'quality';

/** What a failing rule is about, by the facts it reads (its own names and those it looked up). */
function kindOf(result: GateResult): GateKind {
  const facts = [...factsOf(result.rule), ...Object.keys(result.facts ?? {})];
  const has = (test: (fact: string) => boolean): boolean => facts.some(test);
  if (has((f) => f === 'quality.measured')) return 'unmeasured';
  if (has((f) => f.includes('probe.'))) return 'probe';
  if (has((f) => f.startsWith('shadow.'))) {
    // A shadow rule that could not be evaluated lacks samples, whatever it compares.
    return has((f) => f === 'shadow.samples') || result.left === null ? 'shadow-samples' : 'shadow-agreement';
  }
  if (has((f) => f === 'coverage' || f.startsWith('coverage.'))) return 'coverage';
  if (has((f) => f === 'errors' || f === 'deadLetters')) return 'errors';
  return 'quality';
}

/**
 * Shadow agreement comes from queries run through both namespaces while the migration is `shadowing`:
 * a replay (the migration's probe queries, a file, or kept served queries) records them in minutes; live
 * queries through the alias add a share (`sampleRate`) of theirs.
 */
function shadowSamplesHint(migration: Migration): string {
  const rate = migration.options.sampleRate;
  const source = migration.options.probe ? "its probe's queries" : 'queries of yours: --file queries.jsonl';
  const phase =
    migration.state === 'shadowing'
      ? ''
      : ` (samples count once the migration is shadowing: reembed migrate step ${migration.alias})`;
  return (
    `shadow samples: record agreement now with reembed migrate replay ${migration.alias} (${source}, through both namespaces), ` +
    `or serve queries through the alias "${migration.alias}" — your application, or reembed search ${migration.alias} "<query>" — ` +
    `${Math.round(rate * 100)}% of them are also run on ${migration.to} and compared${phase}; ` +
    'then run the cutover again. A lower --min-shadow-samples at migrate start asks for fewer.'
  );
}

function shadowAgreementHint(migration: Migration): string {
  return (
    `shadow agreement: the new namespace's top results share too little with the old one's for spaces of one corpus — ` +
    `check the new space's model, input type / prefix and preprocessing (reembed search ${migration.to} "<query>" shows its hits), ` +
    `then roll back (reembed migrate rollback ${migration.alias}) and start again with a corrected space.`
  );
}

/**
 * The probe measured the new space worse: its figures say by how much (`reembed probe eval` shows them
 * with their significance); a judged set can overrule it, nothing else should.
 */
function probeHint(migration: Migration): string {
  const probe = migration.options.probe;
  const compare = probe
    ? ` (compare both on it: reembed probe eval ${probe} --old ${migration.from} --new ${migration.to})`
    : '';
  return (
    `probe: the new space finds the collection's own documents less often than the old one${compare} — keep the old space ` +
    `(reembed migrate rollback ${migration.alias}); if judged queries say otherwise, pass --golden DIR|NAME to the cutover ` +
    '(a judged set replaces the probe gates).'
  );
}

function unmeasuredHint(): string {
  return 'quality: pass a judged golden set to the cutover (--golden DIR|NAME).';
}

/** Fact names a rule reads (identifiers with dots and @k), e.g. `shadow.overlap@10`, `new.ndcg@10`. */
function factsOf(rule: string): string[] {
  return rule.match(/[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*|@\d+)*/g) ?? [];
}
