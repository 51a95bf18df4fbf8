import { type ChildProcess, execFileSync, type StdioOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { embedSources } from '../src/app/embed-sources.js';
import { composeFactories } from '../src/app/embedders.js';
import { Reembed } from '../src/app/reembed.js';
import { ReembedError } from '../src/core/errors.js';
import { documentChunks } from '../src/core/pipeline.js';
import { defineSpace, type Space } from '../src/core/space.js';
import { createLocalEmbedderFactory } from '../src/embedders/factory.js';
import { createHashingEmbedder } from '../src/embedders/hashing.js';
import { BackfillRunner } from '../src/jobs/backfill.js';
import type { Embedder, EmbedderFactory } from '../src/ports/embedder.js';
import { workerSchemaOf } from '../src/queue/sql.js';
import { type OpenPgBackendOptions, openPgBackend, type PgBackend } from '../src/stores/pg/backend.js';
import { ident } from '../src/stores/pg/sql.js';
import { buildWorkload, type WorkloadDoc } from './workload.js';

/** Shared setup of the PostgreSQL benchmarks (bench/pg-*.ts). */
export const PG_URL = process.env.REEMBED_PG_URL;

export function requireUrl(): string {
  if (!PG_URL) {
    console.error(
      'Set REEMBED_PG_URL (scripts/provision-postgres.sh prints one) to run the PostgreSQL benchmarks.',
    );
    process.exit(2);
  }
  return PG_URL;
}

export function benchSchema(tag: string): string {
  return `bench_${tag}_${randomBytes(3).toString('hex')}`;
}

/** Drops a bench schema and its job-queue schema. */
export async function dropBenchSchema(backend: PgBackend): Promise<void> {
  const schema = backend.config.schema;
  for (const s of [workerSchemaOf(schema), schema])
    await backend.pool.query(`DROP SCHEMA IF EXISTS ${ident(s)} CASCADE`);
}

export async function openBenchApp(
  options: Partial<OpenPgBackendOptions> & { schema: string },
  embedders: readonly EmbedderFactory[] = [],
): Promise<{ app: Reembed; backend: PgBackend }> {
  const backend = await openPgBackend({ url: requireUrl(), poolMax: 8, ...options });
  const app = new Reembed(backend, composeFactories(...embedders, createLocalEmbedderFactory()), {
    actor: 'bench',
  });
  return { app, backend };
}

/**
 * The corpus of the pgvector backfill benchmarks (pg-backfill, pg-runner-profile, pg-backfill-parts): `n`
 * documents of the peer workload ingested into collection `docs` on space `pre-src`, and the building
 * namespace `docs@pre-dst` a backfill fills; both spaces embed at zero cost from `vectors` (keyed by chunk
 * text, which both pipelines produce alike). The caller drops the schema (`dropBenchSchema`).
 */
export interface BackfillCorpus {
  readonly docs: readonly WorkloadDoc[];
  readonly source: Space;
  readonly target: Space;
  readonly vectors: ReadonlyMap<number, Float32Array>;
  readonly app: Reembed;
  readonly backend: PgBackend;
  readonly ns: string;
  /** Drops and re-creates the target namespace's tables, empty (its catalog entry stays). */
  fresh(): Promise<void>;
  /** A single-process runner of a pass over `docs` into the target namespace. */
  runner(
    jobId: string,
    options: { batchSize: number; concurrency: number; pageSize?: number },
  ): Promise<BackfillRunner>;
}

export async function openBackfillCorpus(tag: string, n: number, dimension: number): Promise<BackfillCorpus> {
  const docs = buildWorkload(n).docs;
  const source = precomputedSpace('pre-src', dimension);
  const target = precomputedSpace('pre-dst', dimension);
  const vectors = await precomputeVectors(target, docs);
  const { app, backend } = await openBenchApp({ schema: benchSchema(tag), hnsw: { deferred: true } }, [
    precomputedFactory(vectors),
  ]);
  const ns = 'docs@pre-dst';
  try {
    await app.addSpace(source);
    await app.addSpace(target);
    await app.createCollection('docs', source.name);
    for (let i = 0; i < n; i += 2_000) await app.ingest('docs', docs.slice(i, i + 2_000));
    await app.createNamespace('docs', target, 'building');
  } catch (error) {
    await dropBenchSchema(backend);
    await app.close();
    throw error;
  }
  return {
    docs,
    source,
    target,
    vectors,
    app,
    backend,
    ns,
    async fresh() {
      await backend.store.dropNamespace(ns);
      await backend.store.createNamespace({
        name: ns,
        fingerprint: target.fingerprint,
        spaceName: target.name,
        dimension,
        metric: target.spec.metric,
      });
    },
    async runner(jobId, { batchSize, concurrency, pageSize }) {
      return new BackfillRunner(
        {
          store: backend.store,
          sources: backend.sources,
          jobs: backend.jobs,
          embedder: await app.embedders.get(target),
          encode: embedSources,
        },
        {
          collection: 'docs',
          namespace: ns,
          jobId,
          ...(pageSize === undefined ? {} : { pageSize }),
          settings: { batchSize, concurrency },
        },
      );
    },
  };
}

/** A space whose embedder looks vectors up in a table: an embedding call that costs nothing. */
export function precomputedSpace(name: string, dimension: number): Space {
  return defineSpace(name, { provider: 'precomputed', model: name, dimension });
}

/**
 * The lookup key of a text: a hash of its length and every 7th character. Keying by the whole text would
 * make the "zero-cost" embedder hash every freshly read ~1 KB text (several % of a run's CPU);
 * `precomputeVectors` checks the keys of the corpus are unique.
 */
export function textKey(text: string): number {
  let h = 0x811c9dc5 ^ text.length;
  for (let i = 0; i < text.length; i += 7) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The zero-cost embedder: returns the vector precomputed for each text (keyed by the chunk text the
 * pipeline produces), so a benchmark measures the backfill machinery and the database, not a model.
 */
export function precomputedFactory(vectors: ReadonlyMap<number, Float32Array>): EmbedderFactory {
  return {
    async create(space: Space): Promise<Embedder> {
      if (space.spec.provider !== 'precomputed') throw new ReembedError('UNSUPPORTED', 'not precomputed');
      return {
        space,
        maxBatchSize: 10_000,
        countTokens: () => 1,
        async embed(texts) {
          return texts.map((t) => {
            const v = vectors.get(textKey(t));
            if (!v)
              throw new ReembedError('EMBEDDER_FAILED', `no precomputed vector for "${t.slice(0, 40)}"`);
            return v;
          });
        },
      };
    },
  };
}

/** Normalised hashing vectors of `docs`, keyed by the chunk text `space`'s pipeline produces for each. */
export async function precomputeVectors(
  space: Space,
  docs: readonly { id: string; text: string }[],
  seed = 7,
): Promise<Map<number, Float32Array>> {
  const hashing = createHashingEmbedder(
    defineSpace('bench-hash', {
      provider: 'hashing',
      model: 'fnv1a',
      dimension: space.spec.dimension,
      params: { seed },
    }),
  );
  const vectors = await hashing.embed(
    docs.map((d) => d.text),
    { inputType: 'document' },
  );
  const out = new Map<number, Float32Array>();
  const texts = new Set<string>();
  docs.forEach((d, i) => {
    const chunk = documentChunks(space.spec, d.id, d.text)[0];
    if (chunk) {
      out.set(textKey(chunk.text), vectors[i] as Float32Array);
      texts.add(chunk.text);
    }
  });
  if (out.size !== texts.size) throw new Error('precomputeVectors: lookup keys of the corpus are not unique');
  return out;
}

/** Hashing embedders that take `delayMs` per call: a remote provider's latency, no CPU. */
export function latencyHashingFactory(delayMs: number): EmbedderFactory {
  return {
    async create(space: Space): Promise<Embedder> {
      if (space.spec.provider !== 'hashing') throw new ReembedError('UNSUPPORTED', 'not hashing');
      const base = createHashingEmbedder(space);
      return {
        ...base,
        embed: async (texts, options) => {
          await new Promise((r) => setTimeout(r, delayMs));
          return base.embed(texts, options);
        },
      };
    },
  };
}

/** pgvector's text form of a vector, for the plain-INSERT baseline. */
export function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`;
}

export function pgVersion(backend: PgBackend): Promise<string> {
  return backend.pool
    .query<{ server_version: string }>('SHOW server_version')
    .then((r) => `PostgreSQL ${r.rows[0]?.server_version ?? '?'}, pgvector ${backend.vectorVersion}`);
}

export function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export const RESULTS = join(import.meta.dirname, 'results');

/** The `/proc/<pid>/stat` fields (after the command name) of every `postgres` process on the machine. */
function postgresProcesses(): { pid: string; fields: string[] }[] {
  const out: { pid: string; fields: string[] }[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      out.push({ pid, fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

/** CPU time (user + system, ms) of every `postgres` process, from /proc (clock ticks of 10 ms). */
export function postgresCpuMs(): number {
  let ticks = 0;
  for (const { fields } of postgresProcesses()) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks * 10;
}

/**
 * Gives the database and this process separate cores, as when they run on different machines: every
 * PostgreSQL process (the postmaster included, so new backends inherit it) is pinned to `postgresCpus`
 * and every thread of this process to `selfCpus` (Linux `taskset`; needs the right to change the
 * postgres processes' affinity, e.g. root). Returns a function that gives everything all cores again;
 * it also runs when the process exits, so a failed benchmark never leaves the server pinned.
 */
export function pinCpus(postgresCpus: string, selfCpus: string): () => void {
  const set = (cpus: string, pid: string): void => {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, pid], { stdio: 'ignore' });
  };
  const pids = postgresProcesses().map((p) => p.pid);
  if (pids.length === 0)
    throw new Error('--pin: no postgres process on this machine (the server must run here)');
  for (const pid of pids) set(postgresCpus, pid);
  set(selfCpus, String(process.pid));
  let pinned = true;
  const unpin = (): void => {
    if (!pinned) return;
    pinned = false;
    const all = `0-${cpus().length - 1}`; // not availableParallelism(): that follows this process's own (pinned) affinity
    for (const { pid } of postgresProcesses()) set(all, pid);
    set(all, String(process.pid));
  };
  process.once('exit', unpin);
  return unpin;
}

/**
 * A `reembed worker` process on the bench schema (bench/pg-worker-child.ts: hashing embedders with
 * `delayMs` of latency per call), with `workerArgs` after `worker`; `exited` resolves with its exit code.
 */
export function spawnPgWorker(options: {
  readonly schema: string;
  readonly delayMs: number;
  readonly workerArgs: readonly string[];
  readonly stdio: StdioOptions;
}): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'pg-worker-child.ts'),
      '--pg',
      requireUrl(),
      '--quiet',
      'worker',
      ...options.workerArgs,
    ],
    {
      env: {
        ...process.env,
        REEMBED_PG_SCHEMA: options.schema,
        REEMBED_BENCH_DELAY_MS: String(options.delayMs),
      },
      stdio: options.stdio,
    },
  );
  return { child, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}
