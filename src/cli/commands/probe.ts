import { InvalidArgumentError } from 'commander';
import { compareProbe, type ProbeComparison } from '../../app/probe-compare.js';
import {
  createProbeSet,
  evaluateProbe,
  type ProbeEvaluation,
  probeName,
  requireProbes,
  resolveProbeSet,
} from '../../app/probes.js';
import { ReembedError } from '../../core/errors.js';
import { METRIC_NAMES } from '../../core/metrics.js';
import type { ProbeParamsInput } from '../../core/probe.js';
import type { ProbeSetInfo } from '../../ports/evaluation-sets.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import {
  comparisonJson,
  evaluationJson,
  printComparisonTable,
  printMetricsAtK,
} from '../evaluation-output.js';
import { integerOption, stringOf } from '../options.js';
import { num } from '../output.js';
import { runningCount } from '../progress.js';
import { parseKs } from './eval.js';

export interface ProbeArgs {
  readonly action: 'create' | 'show' | 'eval';
  /** create: the collection; show: the probe (optional); eval: the probe. */
  readonly target?: string;
  /** eval: an alias (evaluates the namespace it serves). */
  readonly alias?: string;
  readonly name?: string;
  readonly params: ProbeParamsInput;
  readonly replace: boolean;
  readonly namespace?: string;
  readonly old?: string;
  readonly new?: string;
  readonly ks?: readonly number[];
  readonly queries?: number;
}

/**
 * `reembed probe create <collection>` builds a probe set from the collection's own documents and stores
 * it as `probe:<name>`; `probe show [name]` lists stored probes or shows one; `probe eval <name>` scores a
 * namespace (or `--old`/`--new`, with the difference and its significance). Every figure is labelled
 * *probe*: known-item queries cut from the documents, not judged relevance.
 */
export async function probe(ctx: CliContext, args: ProbeArgs): Promise<number> {
  const app = await ctx.app();
  switch (args.action) {
    case 'create': {
      if (!args.target)
        throw new ReembedError('INVALID_INPUT', 'Name the collection: reembed probe create docs');
      const task = ctx.progress.start(`probe ${args.target}`, { unit: 'docs' });
      const count = runningCount(task);
      try {
        const { probe, info } = await createProbeSet(app, args.target, {
          ...(args.name ? { name: probeName(args.name) } : {}),
          params: args.params,
          replace: args.replace,
          onProgress: ({ read, total }) => count(read, total),
        });
        task.end();
        ctx.out.result(info, () => {
          ctx.out.line(
            `Probe set probe:${info.name}: ${info.queries} queries from ${info.population.live} live documents of ${info.collection} (seed ${info.params.seed}, ${info.digest}).`,
          );
          printKinds(
            ctx,
            probe.queries.map((q) => q.kind),
          );
          ctx.out.line(`Evaluate it: reembed probe eval ${info.name} ${info.collection}`);
        });
      } finally {
        task.end();
      }
      return 0;
    }
    case 'show': {
      const repository = requireProbes(app.backend);
      if (!args.target) {
        const sets = await repository.list();
        ctx.out.result(sets, () => listSets(ctx, sets));
        return 0;
      }
      const set = await resolveProbeSet(app.backend, args.target);
      const info = (await repository.list()).find((s) => s.name === set.name);
      const shown = set.queries.slice(0, args.queries ?? 5);
      ctx.out.result({ ...info, sample: shown }, () => {
        ctx.out.line(
          `probe:${set.name} — ${set.queries.length} probe queries (known-item, not judged) from collection ${set.collection}, ${set.digest}`,
        );
        ctx.out.line(
          `  built from ${set.population.live} live documents; seed ${set.params.seed}; held out: ${set.params.holdOut ? 'yes' : 'no'}; saved ${info?.savedAt ?? '?'} by ${info?.savedBy ?? '?'}`,
        );
        printKinds(
          ctx,
          set.queries.map((q) => q.kind),
        );
        const tenants = Object.entries(set.population.tenants);
        if (tenants.length > 1 || (tenants.length === 1 && tenants[0]?.[0] !== ''))
          ctx.out.line(
            `  tenants: ${tenants.map(([t, v]) => `${t || '(none)'} ${v.queries}/${v.live}`).join(', ')}`,
          );
        const skipped = Object.entries(set.skipped);
        if (skipped.length)
          ctx.out.line(`  skipped documents: ${skipped.map(([r, n]) => `${n} ${r}`).join(', ')}`);
        for (const q of shown) ctx.out.line(`  ${q.id} [${q.kind}] → ${q.sourceId}: ${clip(q.text, 100)}`);
      });
      return 0;
    }
    case 'eval': {
      if (!args.target)
        throw new ReembedError('INVALID_INPUT', 'Name the probe set: reembed probe eval docs docs');
      const set = await resolveProbeSet(app.backend, args.target);
      const ks = args.ks ? { ks: args.ks } : {};
      if ((args.old === undefined) !== (args.new === undefined))
        throw new ReembedError('INVALID_INPUT', '--old and --new go together: name both namespaces.');
      const total = set.queries.length * (args.old ? 2 : 1);
      const task = ctx.progress.start(`probe ${set.name}`, { total, unit: 'queries' });
      const count = runningCount(task);
      const onProgress = ({ done }: { done: number }) => count(done);
      try {
        if (args.old && args.new) {
          const c = await compareProbe(app, args.old, args.new, set, { ...ks, onProgress });
          task.end();
          ctx.out.result(comparisonJson(c), () => printComparison(ctx, c));
          return 0;
        }
        const namespace = args.namespace ?? (await servedNamespace(ctx, args.alias ?? set.collection));
        const r = await evaluateProbe(app, namespace, set, { ...ks, onProgress });
        task.end();
        ctx.out.result(evaluationJson(r), () => printEvaluation(ctx, r));
        return 0;
      } finally {
        task.end();
      }
    }
  }
}

async function servedNamespace(ctx: CliContext, aliasName: string): Promise<string> {
  const alias = await (await ctx.app()).backend.catalog.getAlias(aliasName);
  return alias.routing.kind === 'single' ? alias.routing.namespace : alias.routing.primary;
}

function printKinds(ctx: CliContext, kinds: readonly string[]): void {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  ctx.out.line(`  query kinds: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`);
}

function listSets(ctx: CliContext, sets: readonly ProbeSetInfo[]): void {
  ctx.out.table(
    [
      { header: 'PROBE', value: (s: ProbeSetInfo) => `probe:${s.name}` },
      { header: 'COLLECTION', value: (s: ProbeSetInfo) => s.collection },
      { header: 'QUERIES', value: (s: ProbeSetInfo) => s.queries, align: 'right' },
      { header: 'SEED', value: (s: ProbeSetInfo) => s.params.seed, align: 'right' },
      { header: 'DIGEST', value: (s: ProbeSetInfo) => s.digest },
      { header: 'SAVED', value: (s: ProbeSetInfo) => `${s.savedAt} by ${s.savedBy}` },
    ],
    sets,
    'No stored probe sets. Build one: reembed probe create <collection>',
  );
}

function printEvaluation(ctx: CliContext, r: ProbeEvaluation): void {
  ctx.out.line(
    `${ctx.out.style.bold(`namespace ${r.target.name}`)} on probe:${r.probe.name} (${r.perQuery.length} probe queries, not judged; ${r.probe.digest})`,
  );
  printMetricsAtK(
    ctx,
    'PROBE METRIC',
    r,
    METRIC_NAMES.filter((m) => m !== 'precision'),
  );
  footer(ctx, r);
}

function footer(ctx: CliContext, r: ProbeEvaluation): void {
  ctx.out.line(
    `latency p50 ${num(r.latency.p50, 2)} ms; ${r.stale} stale queries left out; ${r.duplicates} near-duplicate hits ignored; ${r.errors.count} failed`,
  );
}

function printComparison(ctx: CliContext, c: ProbeComparison): void {
  ctx.out.line(
    `${ctx.out.style.bold(`old ${c.old.target.name} vs new ${c.new.target.name}`)} on probe:${c.probe.name} (${c.old.perQuery.length} probe queries, not judged)`,
  );
  printComparisonTable(
    ctx,
    'PROBE METRIC',
    Object.entries(c.comparisons).filter(([m]) => !m.startsWith('precision')),
  );
  footer(ctx, c.new);
}

const clip = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** `title=1,sentence=1,span=0` → the mix. */
function parseMix(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [kind, weight] = part.split('=').map((s) => s.trim());
    const n = Number(weight);
    if (!kind || !['title', 'sentence', 'span'].includes(kind) || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`expected weights like title=1,sentence=1,span=0, got "${value}".`);
    out[kind] = n;
  }
  return out;
}

function probeArgs(action: ProbeArgs['action']) {
  return (p: readonly unknown[], o: Readonly<Record<string, unknown>>): ProbeArgs => {
    const params: Record<string, unknown> = {};
    if (typeof o.seed === 'number') params.seed = o.seed;
    if (typeof o.size === 'number') params.size = o.size;
    if (o.mix && typeof o.mix === 'object') params.mix = o.mix;
    if (o.holdOut === false) params.holdOut = false;
    return {
      action,
      ...(stringOf(p[0]) ? { target: p[0] as string } : {}),
      ...(stringOf(p[1]) ? { alias: p[1] as string } : {}),
      ...(stringOf(o.name) ? { name: o.name as string } : {}),
      params: params as ProbeParamsInput,
      replace: o.replace === true,
      ...(stringOf(o.namespace) ? { namespace: o.namespace as string } : {}),
      ...(stringOf(o.old) ? { old: o.old as string } : {}),
      ...(stringOf(o.new) ? { new: o.new as string } : {}),
      ...(Array.isArray(o.k) ? { ks: o.k as number[] } : {}),
      ...(typeof o.queries === 'number' ? { queries: o.queries } : {}),
    };
  };
}

export const probeCommand: CliCommand = (cmd, bind) => {
  cmd
    .command('create <collection>')
    .description(
      'sample live documents (seeded, stratified by tenant) into known-item queries; stored as probe:<name>',
    )
    .option('--name <name>', 'name of the probe set (default: the collection)')
    .option('--seed <n>', 'seed of the sample and the draws (default 1)', integerOption(0, 2 ** 31 - 1))
    .option('--size <n>', 'queries wanted (default 300)', integerOption(30, 100_000))
    .option('--mix <weights>', 'query kinds, e.g. title=1,sentence=1,span=0 (the default)', parseMix)
    .option('--no-hold-out', 'keep each document whole (default: evaluate it with its query removed)')
    .option('--replace', 'replace a stored probe set of the same name')
    .action(bind(probe, probeArgs('create')));
  cmd
    .command('show [probe]')
    .description('list stored probe sets, or show one (parameters, tenants, example queries)')
    .option('--queries <n>', 'example queries to print (default 5)', integerOption(0, 100_000))
    .action(bind(probe, probeArgs('show')));
  cmd
    .command('eval <probe> [alias]')
    .description('score the namespace an alias serves (default: the collection) on a probe set')
    .option('--namespace <ns>', 'evaluate this namespace')
    .option('--old <ns>', 'compare: old namespace (with --new)')
    .option('--new <ns>', 'compare: new namespace (with --old)')
    .option('-k, --k <list>', 'cut-offs (default 1,5,10)', parseKs)
    .action(bind(probe, probeArgs('eval')));
};
