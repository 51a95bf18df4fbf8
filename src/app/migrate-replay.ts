import { readFile } from 'node:fs/promises';
import { overlapAt, rbo } from '../core/agreement.js';
import { ReembedError } from '../core/errors.js';
import type { Migration } from '../core/migration.js';
import { mapPool } from '../eval/pool.js';
import type { AgreementSample, AgreementSummary } from '../ports/migrations.js';
import type { MigrationContext } from './migrate-context.js';
import { probeName } from './migrate-options.js';
import { resolveProbeSet } from './probes.js';
import { QueryEngine } from './query.js';

/** Where replayed queries come from. */
export type ReplaySource =
  /** The migration's probe set (default), or another stored one. */
  | { readonly kind: 'probe'; readonly probe?: string }
  /** A file: JSONL lines `{"query": "...", "tenant": "..."}` (or `text`), or one query per plain line. */
  | { readonly kind: 'file'; readonly path: string }
  /** Query texts recently served through the alias (kept only when the migration opted in: keepQueries). */
  | { readonly kind: 'recent' };

export interface ReplayOptions {
  readonly source?: ReplaySource;
  /** Results compared per query (default 10). */
  readonly k?: number;
  /** At most this many queries (default: all of the source). */
  readonly limit?: number;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

export interface ReplayReport {
  readonly kind: 'replay-report';
  readonly migration: string;
  readonly source: string;
  readonly queries: number;
  /** Samples recorded by this replay (queries that failed on either side are left out). */
  readonly recorded: number;
  readonly failed: number;
  /** Means of this replay's samples. */
  readonly overlap: number | null;
  readonly rbo: number | null;
  /** Every sample of the shadowing phase so far (live and replayed), as the gates read them. */
  readonly agreement: AgreementSummary;
}

interface ReplayQuery {
  readonly text: string;
  readonly tenant: string | null;
}

const BATCH = 100;

/**
 * Runs queries through both namespaces of a shadow migration and records their agreement (overlap@k,
 * RBO, both latencies) as shadowing-phase samples, exactly as sampled live queries are — so the shadow
 * gates can be satisfied in minutes instead of waiting for traffic. Reads through a private query engine:
 * a replay is neither traffic nor hit counts. Refused outside the shadowing phase, where gates would not
 * read the samples.
 *
 * @example
 * await replayMigration(ctx, migration, { source: { kind: 'probe' } }); // the migration's probe queries
 */
export async function replayMigration(
  ctx: MigrationContext,
  migration: Migration,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  if (migration.strategy !== 'shadow') {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${migration.id} is ${migration.strategy}: agreement samples are the shadow strategy's gates. ` +
        `Compare the two namespaces on a probe instead: reembed probe eval <probe> --old ${migration.from} --new ${migration.to}.`,
      { details: { migration: migration.id, strategy: migration.strategy } },
    );
  }
  if (migration.state !== 'shadowing') {
    throw new ReembedError(
      'INVALID_STATE',
      `Migration ${migration.id} is ${migration.state}; the gates read agreement samples of the shadowing phase only. ` +
        `Step it until it is shadowing (reembed migrate step ${migration.alias}), then replay.`,
      { details: { migration: migration.id, state: migration.state } },
    );
  }
  const source = options.source ?? { kind: 'probe' };
  const { label, queries: all } = await replayQueries(ctx, migration, source);
  const queries = options.limit !== undefined ? all.slice(0, options.limit) : all;
  if (queries.length === 0) {
    throw new ReembedError('INVALID_INPUT', `No query to replay from ${label}.`, {
      details: { source: label },
    });
  }
  const k = options.k ?? 10;
  const engine = new QueryEngine(ctx.backend, ctx.embedders, { random: () => 1 });
  let pending: AgreementSample[] = [];
  let recorded = 0;
  let failed = 0;
  let overlapSum = 0;
  let rboSum = 0;
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    await ctx.migrations.recordAgreement(batch);
    recorded += batch.length;
  };
  await mapPool(
    queries,
    async (q) => {
      const request = { text: q.text, k, ...(q.tenant !== null ? { filter: { tenant: q.tenant } } : {}) };
      let served: Awaited<ReturnType<QueryEngine['queryNamespace']>>;
      let shadow: typeof served;
      try {
        served = await engine.queryNamespace(migration.from, request);
        shadow = await engine.queryNamespace(migration.to, request);
      } catch (error) {
        if (error instanceof ReembedError && error.code !== 'INVALID_INPUT') throw error;
        failed++;
        return;
      }
      const ids = (r: typeof served): string[] => r.hits.map((h) => h.sourceId);
      const sample: AgreementSample = {
        migrationId: migration.id,
        at: ctx.clock.now().toISOString(),
        phase: 'shadowing',
        tenant: q.tenant,
        k,
        overlap: overlapAt(ids(served), ids(shadow), k),
        rbo: rbo(ids(served), ids(shadow), { depth: k }),
        servedMs: served.read.latencyMs,
        shadowMs: shadow.read.latencyMs,
      };
      overlapSum += sample.overlap;
      rboSum += sample.rbo;
      pending.push(sample);
      if (pending.length >= BATCH) await flush();
    },
    {
      concurrency: options.concurrency ?? 4,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress
        ? { onSettled: (done: number, total: number) => options.onProgress?.({ done, total }) }
        : {}),
    },
  );
  await flush();
  const replays = ((migration.info as { replays?: unknown[] }).replays ?? []).slice(-9);
  await ctx.migrations.updateInfo(
    migration.id,
    { replays: [...replays, { at: ctx.clock.now().toISOString(), source: label, samples: recorded }] },
    ctx.actor,
  );
  return Object.freeze({
    kind: 'replay-report' as const,
    migration: migration.id,
    source: label,
    queries: queries.length,
    recorded,
    failed,
    overlap: recorded ? overlapSum / recorded : null,
    rbo: recorded ? rboSum / recorded : null,
    agreement: await ctx.migrations.agreementSummary(migration.id, { phase: 'shadowing' }),
  });
}

async function replayQueries(
  ctx: MigrationContext,
  migration: Migration,
  source: ReplaySource,
): Promise<{ label: string; queries: ReplayQuery[] }> {
  switch (source.kind) {
    case 'probe': {
      const ref = source.probe ?? migration.options.probe ?? null;
      if (!ref) {
        throw new ReembedError(
          'INVALID_INPUT',
          `Migration ${migration.id} has no probe set; replay a file (--file queries.jsonl), recent queries (--recent), or build a probe (reembed probe create ${migration.collection}) and name it (--probe).`,
          { details: { migration: migration.id } },
        );
      }
      const probe = await resolveProbeSet(ctx.backend, ref);
      return {
        label: `probe:${probeName(ref)}`,
        queries: probe.queries.map((q) => ({ text: q.text, tenant: q.tenant })),
      };
    }
    case 'file':
      return { label: source.path, queries: await readQueryFile(source.path) };
    case 'recent': {
      if (!migration.options.keepQueries) {
        throw new ReembedError(
          'INVALID_INPUT',
          `Migration ${migration.id} keeps no served queries (query text can be sensitive, so this is opt-in): start a migration with --keep-queries N, or replay the probe (the default) or a file.`,
          { details: { migration: migration.id } },
        );
      }
      if (!ctx.migrations.recentQueries) {
        throw new ReembedError('UNSUPPORTED', `The ${ctx.backend.kind} backend keeps no served queries.`);
      }
      const kept = await ctx.migrations.recentQueries(migration.id, migration.options.keepQueries.max);
      return {
        label: `${kept.length} recently served queries`,
        queries: kept.map((q) => ({ text: q.text, tenant: q.tenant })),
      };
    }
  }
}

/** JSONL (`query` or `text`, optional `tenant`) or plain lines; blank lines are skipped. */
export async function readQueryFile(path: string): Promise<ReplayQuery[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new ReembedError('NOT_FOUND', `Cannot read queries from ${path}: ${(error as Error).message}.`, {
      cause: error,
      details: { path },
    });
  }
  const out: ReplayQuery[] = [];
  content.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (!line.startsWith('{')) {
      out.push({ text: line, tenant: null });
      return;
    }
    let value: { query?: unknown; text?: unknown; tenant?: unknown };
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ReembedError(
        'INVALID_INPUT',
        `${path}:${i + 1}: not valid JSON (${(error as Error).message}).`,
        {
          details: { path, line: i + 1 },
        },
      );
    }
    const text = typeof value.query === 'string' ? value.query : value.text;
    if (typeof text !== 'string' || text.trim() === '') {
      throw new ReembedError(
        'INVALID_INPUT',
        `${path}:${i + 1}: a query line needs a non-empty "query" (or "text"), e.g. {"query": "vitamin d and fractures"}.`,
        { details: { path, line: i + 1 } },
      );
    }
    out.push({ text, tenant: typeof value.tenant === 'string' ? value.tenant : null });
  });
  return out;
}
