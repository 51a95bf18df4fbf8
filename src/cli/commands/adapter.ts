import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { AdapterEvaluationResult } from '../../app/bridge-evaluate.js';
import type { EmbedSampleResult } from '../../app/bridge-sample.js';
import { requireAdapters } from '../../bridge/adapters.js';
import type { FitAdapterOptions } from '../../bridge/fit.js';
import { BRIDGE_DIRECTIONS, type BridgeDirection } from '../../core/adapter.js';
import { ADAPTER_METHODS, type AdapterMethod } from '../../core/adapter-fit.js';
import type { AdapterEvaluation } from '../../core/adapter-gate.js';
import { defined } from '../../core/defined.js';
import { ReembedError } from '../../core/errors.js';
import { lazyAsync } from '../../platform/lazy.js';
import type { AdapterRecord } from '../../ports/adapters.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { integerOption, reasonOption, stringOf } from '../options.js';
import { num } from '../output.js';
import { runningCount } from '../progress.js';

// Handlers' dependencies load when a subcommand runs, not for `--help` or option errors.
const fitAdapter = lazyAsync(() => import('../../bridge/fit.js'), 'fitAdapter');
const evaluateAdapter = lazyAsync(() => import('../../app/bridge-evaluate.js'), 'evaluateAdapter');
const embedSample = lazyAsync(() => import('../../app/bridge-sample.js'), 'embedSample');
const resolveGoldenSet = lazyAsync(() => import('../../app/golden-sets.js'), 'resolveGoldenSet');
const buildCorpusBridge = lazyAsync(() => import('../../bridge/corpus.js'), 'buildCorpusBridge');

/** `reembed adapter fit`: what `fitAdapter` takes, and the evaluation and sample around it. */
export interface AdapterFitArgs
  extends Pick<
    FitAdapterOptions,
    'collection' | 'from' | 'to' | 'direction' | 'methods' | 'pairs' | 'seed' | 'name'
  > {
  readonly golden?: string;
  readonly gates?: readonly string[];
  readonly oldRecorded?: boolean;
  /** Embed a dedicated sample with the new model first, until both namespaces hold this many documents. */
  readonly sample?: number;
}

export interface AdapterEvalArgs {
  readonly adapter: string;
  readonly golden: string;
  readonly gates?: readonly string[];
  readonly oldRecorded?: boolean;
  readonly drift?: boolean;
}

/** Exit code of an evaluation whose gate failed (as `GATE_FAILED`). */
const GATE_EXIT = 7;

function recordJson(r: AdapterRecord): Record<string, unknown> {
  return { ...r.adapter, state: r.state, latest: r.latest };
}

/**
 * `reembed adapter fit <collection> --from OLD --to NEW [--direction query|corpus]`: fits an adapter from
 * the documents both namespaces hold, choosing the method on held-out pairs; with `--golden` it is
 * evaluated (gated) at once. Exit 7 when that gate fails.
 */
export async function adapterFit(ctx: CliContext, args: AdapterFitArgs): Promise<number> {
  const app = await ctx.app();
  let sampled: EmbedSampleResult | null = null;
  if (args.sample !== undefined) {
    const task = ctx.progress.start(`sample ${args.collection}@${args.to}`, { unit: 'docs' });
    const count = runningCount(task);
    try {
      sampled = await embedSample(app, {
        collection: args.collection,
        from: args.from,
        to: args.to,
        count: args.sample,
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
        onProgress: (p) => count(p.done, p.total),
      });
    } finally {
      task.end();
    }
  }
  const { golden: _golden, gates: _gates, oldRecorded: _oldRecorded, sample: _sample, ...fit } = args;
  const fitted = await fitAdapter(app, fit);
  let evaluated: AdapterEvaluationResult | null = null;
  if (args.golden) {
    evaluated = await runEvaluation(ctx, fitted.record.adapter.name, {
      golden: args.golden,
      ...(args.gates ? { gates: args.gates } : {}),
      ...(args.oldRecorded ? { oldRecorded: true } : {}),
      reason: 'fit',
    });
  }
  const record = evaluated?.record ?? fitted.record;
  ctx.out.result(
    {
      adapter: recordJson(record),
      fit: fitted.report.candidates,
      pairs: fitted.report.pairs,
      population: fitted.population,
      ...(sampled
        ? { sample: { held: sampled.held, embedded: sampled.embedded, namespace: sampled.namespace.name } }
        : {}),
      ...(evaluated ? { evaluation: evaluated.evaluation } : {}),
    },
    () => {
      const a = record.adapter;
      if (sampled)
        ctx.out.line(
          `Sample: embedded ${sampled.embedded} documents with ${args.to} into ${sampled.namespace.name} (${sampled.held} were already held by both)`,
        );
      ctx.out.line(
        `Fitted ${ctx.out.style.bold(a.name)} (${a.fingerprint}): ${a.spec.direction} bridge ${a.spec.source.name} → ${a.spec.target.name}, ` +
          `${a.spec.method} ${paramsText(a.spec.params)} on ${a.spec.training.documents} documents (of ${fitted.population} held by both) in ${a.fit.seconds.toFixed(1)} s`,
      );
      for (const c of fitted.report.candidates) {
        ctx.out.line(
          `  ${c.method === a.spec.method ? '*' : ' '} ${c.method.padEnd(10)} ${paramsText(c.params).padEnd(26)} held-out ${a.fit.criterion} ${num(c.heldOutScore, 4)}`,
        );
      }
      if (evaluated) printEvaluation(ctx, evaluated.evaluation, record);
      else
        ctx.out.line(
          `State fitted: it serves only after its gate passes — reembed adapter eval ${a.name} --golden <set>`,
        );
    },
  );
  return evaluated && !evaluated.evaluation.passed ? GATE_EXIT : 0;
}

/** `reembed adapter eval <adapter> --golden REF [--gate RULE]...`: exit 7 when the gate fails. */
export async function adapterEval(ctx: CliContext, args: AdapterEvalArgs): Promise<number> {
  const result = await runEvaluation(ctx, args.adapter, {
    golden: args.golden,
    ...(args.gates ? { gates: args.gates } : {}),
    ...(args.oldRecorded ? { oldRecorded: true } : {}),
    reason: args.drift ? 'drift' : 'eval',
  });
  const record = result.record as AdapterRecord;
  ctx.out.result({ adapter: recordJson(record), evaluation: result.evaluation }, () =>
    printEvaluation(ctx, result.evaluation, record),
  );
  return result.evaluation.passed ? 0 : GATE_EXIT;
}

async function runEvaluation(
  ctx: CliContext,
  adapter: string,
  args: {
    golden: string;
    gates?: readonly string[];
    oldRecorded?: boolean;
    reason: AdapterEvaluation['reason'];
  },
): Promise<AdapterEvaluationResult> {
  const app = await ctx.app();
  // A path that exists (relative to the working directory) is loaded; anything else is a stored set's name.
  const path = resolve(ctx.io.cwd, args.golden);
  const { golden } = await resolveGoldenSet(app.backend, existsSync(path) ? path : args.golden);
  const task = ctx.progress.start(`eval ${adapter}`, { unit: 'queries' });
  let stage = '';
  let count = runningCount(task);
  try {
    return await evaluateAdapter(app, adapter, {
      golden,
      reason: args.reason,
      ...(args.gates && args.gates.length > 0 ? { rules: args.gates } : {}),
      ...(args.oldRecorded ? { old: 'recorded' as const } : {}),
      onProgress: (p) => {
        if (p.stage !== stage) {
          stage = p.stage;
          count = runningCount(task);
          count(p.done, p.total);
        } else count(p.done);
      },
    });
  } finally {
    task.end();
  }
}

function paramsText(params: Readonly<Record<string, number>>): string {
  const entries = Object.entries(params);
  return entries.length === 0 ? '' : `(${entries.map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

function printEvaluation(ctx: CliContext, e: AdapterEvaluation, record: AdapterRecord): void {
  const m = e.metric;
  const f = e.facts;
  const val = (key: string): string => (f[key] === undefined ? 'n/a' : num(f[key] as number, 4));
  const interval = (side: string): string =>
    f[`${side}.${m}.lo`] === undefined ? '' : ` [${val(`${side}.${m}.lo`)}, ${val(`${side}.${m}.hi`)}]`;
  ctx.out.line(
    `Evaluation on ${e.set.kind} set ${e.set.name} (${e.set.queries} queries), ${m}, coverage ${num((f.coverage ?? 0) * 100, 1)}%:`,
  );
  ctx.out.line(
    `  bridged     ${val(`bridged.${m}`)}${interval('bridged')}   (the bridge fused with the new namespace's native records)`,
  );
  ctx.out.line(
    `  new alone   ${val(`alone.${m}`)}${interval('alone')}   (the new namespace at its current coverage)`,
  );
  ctx.out.line(`  clean old   ${val(`old.${m}`)}${interval('old')}   (${e.oldSource})`);
  for (const [key, label] of [
    ['vs_alone', 'bridged − alone'],
    ['vs_old', 'bridged − old'],
  ] as const) {
    if (f[`${key}.${m}.lo`] !== undefined)
      ctx.out.line(`  ${label.padEnd(15)} 95% interval [${val(`${key}.${m}.lo`)}, ${val(`${key}.${m}.hi`)}]`);
  }
  ctx.out.line(
    `  recovery    ${f.recovery === undefined ? 'n/a' : `${num(f.recovery * 100, 1)}% of native on ${f['recovery.documents']} held-out documents (${f['recovery.queries']} queries)`}`,
  );
  for (const r of e.results) ctx.out.line(`  ${r.passed ? 'pass' : 'FAIL'}  ${r.rule}: ${r.detail}`);
  for (const n of e.notes) ctx.out.note(n);
  ctx.out.line(
    e.passed
      ? `Gate passed: ${record.adapter.name} is ${record.state}; serve it with reembed migrate start <alias> --to <space> --strategy lazy|progressive --bridge ${record.adapter.spec.direction} --adapter ${record.adapter.name}`
      : `Gate failed: ${record.adapter.name} stays ${record.state}${record.state === 'passed' ? ' (it passed before: this is drift — refit with reembed adapter fit)' : ' and may not serve'}.`,
  );
}

/** `reembed adapter list [collection]`. */
export async function adapterList(ctx: CliContext, args: { collection?: string }): Promise<number> {
  const app = await ctx.app();
  const records = await requireAdapters(app.backend).list(
    args.collection ? { collection: args.collection } : {},
  );
  ctx.out.result(records.map(recordJson), () => {
    ctx.out.table(
      [
        { header: 'ADAPTER', value: (r: AdapterRecord) => r.adapter.name },
        { header: 'COLLECTION', value: (r: AdapterRecord) => r.adapter.spec.collection },
        {
          header: 'BRIDGE',
          value: (r: AdapterRecord) =>
            `${r.adapter.spec.direction} ${r.adapter.spec.source.name} → ${r.adapter.spec.target.name}`,
        },
        { header: 'METHOD', value: (r: AdapterRecord) => r.adapter.spec.method },
        {
          header: 'PAIRS',
          value: (r: AdapterRecord) => r.adapter.spec.training.documents,
          align: 'right' as const,
        },
        { header: 'STATE', value: (r: AdapterRecord) => r.state },
        {
          header: 'LAST GATE',
          value: (r: AdapterRecord) =>
            r.latest ? `${r.latest.passed ? 'pass' : 'FAIL'} ${r.latest.at}` : '-',
        },
      ],
      records,
      'No adapters yet. Fit one: reembed adapter fit <collection> --from <old space> --to <new space>',
    );
  });
  return 0;
}

/** `reembed adapter show <adapter> [--history N]`. */
export async function adapterShow(
  ctx: CliContext,
  args: { adapter: string; history: number },
): Promise<number> {
  const app = await ctx.app();
  const repository = requireAdapters(app.backend);
  const record = await repository.get(args.adapter);
  const history = await repository.evaluations(args.adapter, { limit: args.history });
  ctx.out.result({ ...recordJson(record), evaluations: history }, () => {
    const a = record.adapter;
    ctx.out.line(`${ctx.out.style.bold(a.name)} (${a.fingerprint}), ${record.state}`);
    ctx.out.line(`  collection  ${a.spec.collection}`);
    ctx.out.line(
      `  bridge      ${a.spec.direction}: ${a.spec.source.name} (${a.spec.source.fingerprint}) → ${a.spec.target.name} (${a.spec.target.fingerprint})`,
    );
    ctx.out.line(
      `  method      ${a.spec.method} ${paramsText(a.spec.params)}, chosen by held-out ${a.fit.criterion} ${num(a.fit.heldOutScore, 4)}`,
    );
    ctx.out.line(
      `  training    ${a.spec.training.documents} documents, seed ${a.spec.training.seed}, collection version ${a.spec.training.collectionVersion}, sample ${a.spec.training.sampleSha256.slice(0, 12)}…`,
    );
    ctx.out.line(
      `  weights     sha256 ${a.spec.weightsSha256.slice(0, 16)}…, fitted in ${a.fit.seconds.toFixed(1)} s at ${a.createdAt}`,
    );
    if (history.length === 0)
      ctx.out.line(`  evaluations none: reembed adapter eval ${a.name} --golden <set>`);
    for (const e of history) {
      const m = e.metric;
      ctx.out.line(
        `  ${e.at}  ${e.reason.padEnd(5)} ${e.passed ? 'pass' : 'FAIL'}  bridged ${num(e.facts[`bridged.${m}`] ?? Number.NaN, 4)}  old ${e.facts[`old.${m}`] === undefined ? 'n/a' : num(e.facts[`old.${m}`] as number, 4)}  alone ${num(e.facts[`alone.${m}`] ?? Number.NaN, 4)}  on ${e.set.name}`,
      );
    }
  });
  return 0;
}

/** `reembed adapter build <adapter>`: maps the old namespace into the corpus adapter's derived namespace. */
export async function adapterBuild(ctx: CliContext, args: { adapter: string }): Promise<number> {
  const app = await ctx.app();
  const task = ctx.progress.start(`map ${args.adapter}`, { unit: 'documents' });
  const count = runningCount(task);
  let result: Awaited<ReturnType<typeof buildCorpusBridge>>;
  try {
    result = await buildCorpusBridge(app, args.adapter, {
      onProgress: ({ mapped, total }) => count(mapped, total),
    });
  } finally {
    task.end();
  }
  ctx.out.result(result, () =>
    ctx.out.line(
      `${result.namespace.name}: ${result.written} documents mapped (${result.skipped} already held) in ${result.seconds.toFixed(1)} s, no provider called`,
    ),
  );
  return 0;
}

/** `reembed adapter revoke <adapter> --reason TEXT`: it may no longer serve. */
export async function adapterRevoke(
  ctx: CliContext,
  args: { adapter: string; reason?: string },
): Promise<number> {
  if (!args.reason) {
    throw new ReembedError('INVALID_INPUT', 'Say why with --reason (it is written to the audit log).', {
      details: { field: 'reason' },
    });
  }
  const app = await ctx.app();
  const record = await requireAdapters(app.backend).revoke(args.adapter, args.reason, app.actor);
  ctx.out.result(recordJson(record), () =>
    ctx.out.line(`${record.adapter.name} revoked: routings through it stop serving (within 5 s).`),
  );
  return 0;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The gate options `adapter fit` (with --golden) and `adapter eval` share. */
function withGateOptions(cmd: Command): Command {
  return cmd
    .option(
      '--gate <rule>',
      'gate rule, repeatable (default: bridged >= old - 0.01 and vs_alone.lo > 0)',
      collect,
    )
    .option(
      '--old-recorded',
      'never call the old model: compare with the quality recorded for the old namespace',
    );
}

function gateArgs(o: Record<string, unknown>): { gates?: readonly string[]; oldRecorded?: true } {
  return {
    ...(o.gate ? { gates: o.gate as string[] } : {}),
    ...(o.oldRecorded ? { oldRecorded: true } : {}),
  };
}

function methodList(value: string): AdapterMethod[] {
  const methods = value.split(',').map((m) => m.trim());
  for (const m of methods) {
    if (!(ADAPTER_METHODS as readonly string[]).includes(m)) {
      throw new ReembedError('INVALID_INPUT', `Unknown method "${m}"; use ${ADAPTER_METHODS.join(', ')}.`, {
        details: { method: m },
      });
    }
  }
  return methods as AdapterMethod[];
}

export const adapterCommand: CliCommand = (adapter, bind) => {
  withGateOptions(
    adapter
      .command('fit <collection>')
      .description('fit an adapter between two namespaces of a collection from documents both hold')
      .requiredOption('--from <space>', 'the old space (what the collection is served in now)')
      .requiredOption('--to <space>', 'the new space')
      .addOption(
        new Option(
          '--direction <direction>',
          'query: new-model queries search the old namespace; corpus: old vectors mapped into the new space',
        )
          .choices(BRIDGE_DIRECTIONS)
          .default('query'),
      )
      .option(
        '--method <list>',
        `methods to choose from on held-out pairs (${ADAPTER_METHODS.join(',')})`,
        methodList,
      )
      .option('--pairs <n>', 'documents to sample (default 2000)', integerOption(20))
      .option('--seed <n>', 'seed of the sample and the held-out split', integerOption(0))
      .option(
        '--sample <n>',
        'first embed a random sample with the new model until both namespaces hold n documents (only the new model is called)',
        integerOption(20),
      )
      .option('--name <name>', 'adapter name (default <source>-to-<target>.<version>)')
      .option(
        '--golden <ref>',
        'evaluate and gate at once on this golden set (BEIR dir, JSONL or stored name)',
      ),
  ).action(
    bind(adapterFit, (pos, o) => ({
      collection: pos[0] as string,
      from: o.from as string,
      to: o.to as string,
      direction: o.direction as BridgeDirection,
      ...(o.method ? { methods: o.method as AdapterMethod[] } : {}),
      ...(o.pairs !== undefined ? { pairs: o.pairs as number } : {}),
      ...(o.seed !== undefined ? { seed: o.seed as number } : {}),
      ...(o.sample !== undefined ? { sample: o.sample as number } : {}),
      ...(stringOf(o.name) ? { name: stringOf(o.name) as string } : {}),
      ...(stringOf(o.golden) ? { golden: stringOf(o.golden) as string } : {}),
      ...gateArgs(o),
    })),
  );
  withGateOptions(
    adapter
      .command('eval <adapter>')
      .description('evaluate an adapter and apply its gate (exit 7 when it fails)')
      .requiredOption('--golden <ref>', 'golden set: BEIR dir, JSONL file or stored name'),
  )
    .option('--drift', 'record this as the scheduled drift re-evaluation')
    .action(
      bind(adapterEval, (pos, o) => ({
        adapter: pos[0] as string,
        golden: o.golden as string,
        ...gateArgs(o),
        ...(o.drift ? { drift: true } : {}),
      })),
    );
  adapter
    .command('list [collection]')
    .description('adapters, their bridge, state and last gate')
    .action(bind(adapterList, (pos) => (pos[0] ? { collection: pos[0] as string } : {})));
  adapter
    .command('show <adapter>')
    .description('an adapter: spaces, method, training sample, weights and evaluation history')
    .option('--history <n>', 'evaluations shown', integerOption(1), 10)
    .action(bind(adapterShow, (pos, o) => ({ adapter: pos[0] as string, history: o.history as number })));
  adapter
    .command('build <adapter>')
    .description(
      "map the old namespace's vectors into a corpus adapter's derived namespace (no provider calls)",
    )
    .action(bind(adapterBuild, (pos) => ({ adapter: pos[0] as string })));
  adapter
    .command('revoke <adapter>')
    .description('stop an adapter from serving (audited)')
    .addOption(reasonOption())
    .action(
      bind(adapterRevoke, (pos, o) => ({
        adapter: pos[0] as string,
        ...defined({ reason: stringOf(o.reason) }),
      })),
    );
};
