import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MigrationService } from '../../app/migrate.js';
import type { QueryRequest, QueryResponse, ResultHit } from '../../app/query.js';
import { ReembedError } from '../../core/errors.js';
import type { SearchFilter } from '../../core/records.js';
import { recordTraffic } from '../../monitor/wiring.js';
import type { CliCommand } from '../command.js';
import type { CliContext } from '../context.js';
import { collectKeyValues, integerOption, searchFilter } from '../options.js';

export interface SearchArgs {
  readonly alias: string;
  readonly text?: string;
  readonly k: number;
  readonly filter?: SearchFilter;
  readonly exact: boolean;
  /** JSON file holding one query vector (an array of numbers); needs `space`. */
  readonly vectorFile?: string;
  /** The space the vector was embedded in (name or fingerprint). */
  readonly space?: string;
}

/**
 * `reembed search <alias> <text>` or `reembed search <alias> --vector-file F --space S`: queries through an
 * alias and prints every hit with its provenance, then the trace (namespaces read, fingerprints served).
 * A vector of another space is refused with SPACE_MISMATCH, even at equal dimension.
 */
export async function search(ctx: CliContext, args: SearchArgs): Promise<number> {
  const request = await queryRequest(ctx, args);
  const app = await ctx.app();
  // A CLI query is real traffic: the monitor's traffic statistics and the migration engine (shadow
  // agreement, hit counts for progressive order, re-embed on hit for lazy) observe it like any other.
  const traffic = recordTraffic(app);
  const migrations = app.backend.migrations && app.backend.jobs ? new MigrationService(app) : null;
  let response: QueryResponse;
  try {
    response = await app.search(args.alias, request);
  } finally {
    await migrations?.close();
    await traffic?.stop();
  }
  ctx.out.result(response, () => {
    const { hits, trace } = response;
    const reads = trace.reads.map((r) => r.namespace).join(' + ');
    ctx.out.line(
      `${hits.length} hit(s) from alias ${ctx.out.style.bold(trace.alias)} (${trace.routing} → ${reads}) in ${trace.tookMs.toFixed(1)} ms`,
    );
    if (hits.length > 0) {
      ctx.out.table(
        [
          { header: '#', value: (h: ResultHit) => hits.indexOf(h) + 1, align: 'right' },
          { header: 'SCORE', value: (h: ResultHit) => h.score.toFixed(4), align: 'right' },
          { header: 'ID', value: (h: ResultHit) => h.sourceId },
          { header: 'CHUNK', value: (h: ResultHit) => h.chunkId },
          { header: 'V', value: (h: ResultHit) => h.provenance.sourceVersion, align: 'right' },
          { header: 'FINGERPRINT', value: (h: ResultHit) => h.provenance.fingerprint },
          {
            header: 'NAMESPACE',
            value: (h: ResultHit) => (h.bridged ? `${h.namespace} (bridged)` : h.namespace),
          },
          { header: 'TEXT', value: (h: ResultHit) => snippet(h.text, 60) },
        ],
        hits,
      );
    }
    ctx.out.line(ctx.out.style.dim('trace:'));
    for (const r of trace.reads) {
      ctx.out.line(
        ctx.out.style.dim(
          `  read ${r.namespace} [${r.role}] space ${r.space} ${r.fingerprint}: ${r.hits} hits in ${r.latencyMs.toFixed(1)} ms` +
            (r.bridged
              ? ` — bridged (${r.bridged.direction} bridge through adapter ${r.bridged.adapterName}, query embedded by ${r.bridged.via})`
              : ''),
        ),
      );
    }
    ctx.out.line(
      ctx.out.style.dim(
        `  alias v${trace.aliasVersion}, k=${trace.k}, filter ${trace.filter ? JSON.stringify(trace.filter) : 'none'}, ` +
          `fusion ${trace.fusion ?? 'none'}, fingerprints served ${trace.fingerprints.join(', ') || '-'}, mixed-version ${trace.mixedVersion}`,
      ),
    );
  });
  return 0;
}

async function queryRequest(ctx: CliContext, args: SearchArgs): Promise<QueryRequest> {
  const common = { k: args.k, exact: args.exact, ...(args.filter ? { filter: args.filter } : {}) };
  if (args.vectorFile === undefined) {
    if (args.text === undefined || args.text.trim() === '') {
      throw new ReembedError(
        'INVALID_INPUT',
        'Give the query text, or --vector-file FILE with --space SPACE.',
      );
    }
    if (args.space !== undefined) {
      throw new ReembedError(
        'INVALID_INPUT',
        "--space only applies to --vector-file: a text query is embedded in each namespace's own space.",
      );
    }
    return { ...common, text: args.text };
  }
  if (args.text !== undefined)
    throw new ReembedError('INVALID_INPUT', 'Give either query text or --vector-file, not both.');
  if (args.space === undefined) {
    throw new ReembedError(
      'INVALID_INPUT',
      '--vector-file needs --space SPACE: a vector is only comparable within the space it was embedded in.',
    );
  }
  return { ...common, vector: await readVector(resolve(ctx.io.cwd, args.vectorFile)), space: args.space };
}

/** Reads a JSON array of finite numbers. */
export async function readVector(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new ReembedError('NOT_FOUND', `Cannot read vector file ${file}: ${(cause as Error).message}.`, {
      details: { file },
      cause,
    });
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${file} is not valid JSON: ${(cause as Error).message}. Expected an array of numbers.`,
      {
        details: { file },
        cause,
      },
    );
  }
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((x) => typeof x === 'number' && Number.isFinite(x))
  ) {
    throw new ReembedError(
      'INVALID_INPUT',
      `${file} must hold a non-empty JSON array of finite numbers, e.g. [0.1, -0.2, 0.3].`,
      {
        details: { file },
      },
    );
  }
  return value as number[];
}

function snippet(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export const searchCommand: CliCommand = (command, bind) =>
  command
    .arguments('<alias> [text]')
    .option('-k, --k <n>', 'number of hits', integerOption(1, 10_000), 10)
    .option('--tenant <tenant>', 'only documents of this tenant')
    .option(
      '--filter <key=value>',
      'metadata equality (value as JSON when it parses; a JSON list means any of); repeatable',
      collectKeyValues,
    )
    .option('--exact', 'exact search even when an ANN index exists')
    .option('--vector-file <file>', 'JSON array of numbers to search with (needs --space)')
    .option('--space <space>', 'space of --vector-file (name or fingerprint)')
    .action(
      bind(search, (p, o) => {
        const filter = searchFilter(o.tenant, o.filter as Record<string, unknown> | undefined);
        return {
          alias: p[0] as string,
          ...(typeof p[1] === 'string' ? { text: p[1] } : {}),
          k: o.k as number,
          exact: o.exact === true,
          ...(filter ? { filter } : {}),
          ...(typeof o.vectorFile === 'string' ? { vectorFile: o.vectorFile } : {}),
          ...(typeof o.space === 'string' ? { space: o.space } : {}),
        };
      }),
    );
