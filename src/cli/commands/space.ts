import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import { defined } from '../../core/defined.js';
import { isReembedError } from '../../core/errors.js';
import { METRICS, type Space, spaceSummary } from '../../core/space.js';
import { spaceConflict, spaceDifferences } from '../../core/space-diff.js';
import { STORED_FALLBACKS } from '../../embedders/stored-vectors/factory.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { withModelPath } from '../lsa-model.js';
import {
  collectKeyValues,
  integerOption,
  numberOf,
  numberOption,
  parseChunker,
  reasonOption,
  stringOf,
} from '../options.js';
import { buildSpace, CLI_PROVIDERS, type SpaceAddArgs } from '../space-options.js';

/** The JSON view of a space (`space add`, `space list`). */
export function spaceView(space: Space): Record<string, unknown> {
  const s = space.spec;
  return {
    ...spaceSummary(space),
    inputType: s.inputType,
    truncation: s.truncation,
    params: s.params,
    pricePerMillionTokens: space.runtime.pricePerMillionTokens,
    options: space.runtime.options,
  };
}

export function chunkerLabel(chunker: Space['spec']['chunker']): string {
  return chunker.kind === 'none' ? 'none' : `${chunker.kind}:${chunker.size}:${chunker.overlap ?? 0}`;
}

/**
 * `reembed space add <name> ...`: registers an embedding space (fitting an LSA model first with `--fit-on`).
 * Idempotent like the library: the identical definition again changes nothing (exit 0, `unchanged`); a
 * different one under the same name is a `CONFLICT` naming the differing fields. Re-fitting an LSA space
 * that exists fits into a scratch directory, so the registered model file is never overwritten.
 */
export async function spaceAdd(ctx: CliContext, args: SpaceAddArgs): Promise<number> {
  const app = await ctx.app();
  const existing = await app.backend.catalog.getSpace(args.name).catch((error: unknown) => {
    if (isReembedError(error, 'NOT_FOUND')) return null;
    throw error;
  });
  if (args.fitOn) ctx.out.note(`fitting LSA (${args.dimension ?? '?'} dimensions) on ${args.fitOn} ...`);
  const scratch = existing && args.fitOn ? mkdtempSync(join(tmpdir(), 'reembed-fit-')) : null;
  let built: Awaited<ReturnType<typeof buildSpace>>;
  try {
    built = await buildSpace(args, scratch ?? ctx.dataDir, ctx.io.cwd);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  let candidate = built.space;
  const heldModel = existing?.runtime.options.modelPath;
  if (scratch && typeof heldModel === 'string') candidate = withModelPath(candidate, heldModel);
  if (existing && spaceDifferences(existing, candidate).length > 0)
    throw spaceConflict(args.name, existing, candidate);
  const space = existing ?? (await app.addSpace(candidate));
  const unchanged = existing !== null;
  const fitted = built.fitted && !unchanged ? built.fitted : undefined;
  ctx.out.result({ space: spaceView(space), unchanged, ...(fitted ? { fitted } : {}) }, () => {
    if (unchanged) {
      ctx.out.line(
        `Space ${ctx.out.style.bold(space.name)} ${space.fingerprint} is already registered with this definition: nothing changed.`,
      );
      return;
    }
    ctx.out.line(`Added space ${ctx.out.style.bold(space.name)} ${space.fingerprint}`);
    ctx.out.line(
      `  ${space.spec.provider}/${space.spec.model} r${space.spec.revision}, ${space.spec.dimension}d ${space.spec.metric}, ` +
        `chunker ${chunkerLabel(space.spec.chunker)}, preprocessing ${space.spec.preprocessing}`,
    );
    if (fitted) {
      ctx.out.line(
        `  fitted on ${fitted.documents} documents (${fitted.terms} terms) in ${fitted.seconds.toFixed(1)} s → ${fitted.path}`,
      );
    }
  });
  return 0;
}

/** `reembed space list`. */
export async function spaceList(ctx: CliContext, _args: Record<string, never>): Promise<number> {
  const spaces = await (await ctx.app()).backend.catalog.listSpaces();
  ctx.out.result(spaces.map(spaceView), () => {
    ctx.out.table(
      [
        { header: 'NAME', value: (s: Space) => s.name },
        { header: 'PROVIDER', value: (s: Space) => s.spec.provider },
        { header: 'MODEL', value: (s: Space) => s.spec.model },
        { header: 'REVISION', value: (s: Space) => s.spec.revision },
        { header: 'DIM', value: (s: Space) => s.spec.dimension, align: 'right' },
        { header: 'METRIC', value: (s: Space) => s.spec.metric },
        { header: 'CHUNKER', value: (s: Space) => chunkerLabel(s.spec.chunker) },
        { header: 'FINGERPRINT', value: (s: Space) => s.fingerprint },
      ],
      spaces,
      'No spaces yet. Add one: reembed space add v1 --provider hashing --dimension 384',
    );
  });
  return 0;
}

export interface SpaceRemoveArgs {
  readonly name: string;
  readonly ifExists: boolean;
  readonly reason?: string;
}

/**
 * `reembed space remove <name> [--if-exists] [--reason TEXT]`: removes a space no namespace uses (refused,
 * naming them, while any does — retired ones too, whose manifests keep it). A missing space is
 * `NOT_FOUND` (exit 4), or success with `--if-exists`, so scripts can run it again. Audited.
 */
export async function spaceRemove(ctx: CliContext, args: SpaceRemoveArgs): Promise<number> {
  const { removed } = await (await ctx.app()).removeSpace(args.name, {
    ifExists: args.ifExists,
    ...(args.reason ? { reason: args.reason } : {}),
  });
  const model = removed?.runtime.options.modelPath;
  ctx.out.result({ space: args.name, removed: removed ? spaceView(removed) : null }, () => {
    if (!removed) {
      ctx.out.line(`No space "${args.name}": nothing to remove.`);
      return;
    }
    ctx.out.line(`Removed space ${ctx.out.style.bold(removed.name)} ${removed.fingerprint}`);
    if (typeof model === 'string')
      ctx.out.line(
        ctx.out.style.dim(`  its model file ${model} was left in place; delete it if nothing else uses it`),
      );
  });
  return 0;
}

function addArgs(positionals: readonly unknown[], o: Readonly<Record<string, unknown>>): SpaceAddArgs {
  return {
    name: positionals[0] as string,
    provider: o.provider as SpaceAddArgs['provider'],
    model: stringOf(o.model),
    dimension: numberOf(o.dimension),
    metric: o.metric as SpaceAddArgs['metric'],
    normalization: o.normalization as SpaceAddArgs['normalization'],
    revision: stringOf(o.revision),
    seed: numberOf(o.seed),
    ngrams: o.ngrams as SpaceAddArgs['ngrams'],
    sublinear: o.sublinear === true ? true : undefined,
    chunker: o.chunker as SpaceAddArgs['chunker'],
    preprocessing: stringOf(o.preprocessing),
    queryPrefix: stringOf(o.queryPrefix),
    documentPrefix: stringOf(o.documentPrefix),
    maxTokens: numberOf(o.maxTokens),
    modelPath: stringOf(o.modelPath),
    fitOn: stringOf(o.fitOn),
    baseUrl: stringOf(o.baseUrl),
    apiKeyEnv: stringOf(o.apiKeyEnv),
    pricePer1m: numberOf(o.pricePer1m),
    requestDimensions: o.requestDimensions === true ? true : undefined,
    from: stringOf(o.from),
    source: stringOf(o.source),
    fallback: o.fallback as SpaceAddArgs['fallback'],
    params: (o.param as Record<string, unknown> | undefined) ?? {},
    options: (o.option as Record<string, unknown> | undefined) ?? {},
  };
}

export const spaceCommand: CliCommand = (space, bind) => {
  space
    .command('add <name>')
    .description('register an embedding space (its fingerprint covers every geometry-relevant field)')
    .addOption(
      new Option('--provider <provider>', 'embedding provider').choices(CLI_PROVIDERS).makeOptionMandatory(),
    )
    .option('--model <name>', 'model name (openai-compatible: required)')
    .option('--dimension <n>', 'vector dimension', integerOption(1, 65_536))
    .addOption(new Option('--metric <metric>', 'similarity metric (default cosine)').choices(METRICS))
    .addOption(
      new Option('--normalization <mode>', 'vector normalisation (default l2)').choices(['l2', 'none']),
    )
    .option('--revision <rev>', 'model revision or date (openai-compatible)')
    .option('--seed <n>', 'hashing seed, or LSA fitting seed', integerOption(0, 0xffffffff))
    .addOption(
      new Option('--ngrams <n>', 'hashing: 1 = words, 2 = words and bigrams')
        .choices(['1', '2'])
        .argParser(Number),
    )
    .option('--sublinear', 'hashing: weight terms by 1 + ln(tf)')
    .option(
      '--chunker <spec>',
      'none | tokens:SIZE[:OVERLAP] | chars:SIZE[:OVERLAP] (default none)',
      parseChunker,
    )
    .option('--preprocessing <version>', 'text preprocessing version (default v1)')
    .option('--query-prefix <text>', 'prefix added to queries (e.g. "query: ")')
    .option('--document-prefix <text>', 'prefix added to documents (e.g. "passage: ")')
    .option('--max-tokens <n>', 'truncate inputs to this many word tokens', integerOption(1))
    .option('--model-path <file>', 'lsa / word-vectors: model file')
    .option(
      '--fit-on <corpus>',
      'lsa: fit a model on a JSONL file or BEIR directory (saved under <dbdir>/.reembed/models)',
    )
    .option('--base-url <url>', 'openai-compatible: endpoint base URL, e.g. https://api.openai.com/v1')
    .option('--api-key-env <NAME>', 'openai-compatible: environment variable holding the API key')
    .option('--request-dimensions', 'openai-compatible: send `dimensions` (for models that shorten vectors)')
    .option(
      '--from <dir>',
      'stored-vectors: folder with MANIFEST.json and the vector files (README "Adopting precomputed embeddings")',
    )
    .option(
      '--source <dir>',
      'stored-vectors: folder of the source corpus.jsonl / queries.jsonl (default: --from and its parents)',
    )
    .addOption(
      new Option(
        '--fallback <mode>',
        'stored-vectors: texts not held are refused (none, default) or embedded by the live model (live)',
      ).choices(STORED_FALLBACKS),
    )
    .option('--price-per-1m <usd>', 'price per million input tokens, for cost estimates', numberOption(0))
    .option('--param <key=value>', 'extra model parameter (in the fingerprint); repeatable', collectKeyValues)
    .option(
      '--option <key=value>',
      'extra runtime option (not in the fingerprint); repeatable',
      collectKeyValues,
    )
    .action(bind(spaceAdd, addArgs));
  space
    .command('list')
    .description('list the registered spaces')
    .action(bind(spaceList, () => ({})));
  space
    .command('remove <name>')
    .description('remove a space no namespace uses (audited)')
    .option('--if-exists', 'succeed when the space does not exist')
    .addOption(reasonOption())
    .action(
      bind(spaceRemove, (p, o) => ({
        name: p[0] as string,
        ifExists: o.ifExists === true,
        ...defined({ reason: stringOf(o.reason) }),
      })),
    );
};
