/** The bench/results/peer.md document of the LangChain `index()` comparison (see peer-langchain.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo, median } from './lib.js';
import { markdownTable, rowsOf, type Sample, variantLabel } from './peer-report.js';

export interface PartResult {
  readonly part: string;
  readonly n: number;
  readonly latency: number;
  readonly variants: readonly string[];
  readonly setups: readonly string[];
  readonly failures: readonly string[];
}

const SETUP_HEADING: Record<string, string> = {
  memory: 'In-memory peer vs embedded SQLite',
  lancedb: 'LanceDB vs LanceDB',
};

const SETUP_TITLE: Record<string, string> = {
  memory:
    'peer: MemoryVectorStore (+ ids/delete shim) + InMemoryRecordManager · reembed: embedded SQLite (catalog, sources and vectors in one file)',
  lancedb:
    'peer: LanceDB (+ ids/delete shim) + SQLiteRecordManager · reembed: SQLite catalog/sources + LanceDB vectors (`openReembed({ db, lancedb })`)',
};

function ourVersion(pkg: string): string {
  try {
    const path = join(import.meta.dirname, '..', 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function corpusCheck(samples: readonly Sample[], n: number): string {
  const of = (side: string) =>
    new Set(
      samples.filter((s) => s.side === side && s.line.n === n).map((s) => String(s.line.corpus_sha256)),
    );
  const peer = [...of('peer')];
  const ours = [...of('reembed')];
  const same = peer.length === 1 && ours.length === 1 && peer[0] === ours[0];
  return `N=${n.toLocaleString('en-US')}: peer ${peer.join(', ') || '—'}, reembed ${ours.join(', ') || '—'} → ${same ? 'identical' : '**DIFFERENT**'}`;
}

function reembedBreakdown(samples: readonly Sample[], r: PartResult): string[] {
  const out: string[] = [];
  const cases = [
    ...['full', 'noop', 'incremental'].map((phase) => [phase, 'default'] as const),
    ...r.variants.map((v) => ['model_upgrade', v] as const),
  ];
  for (const setup of r.setups) {
    for (const [phase, v] of cases) {
      const lines = samples
        .filter((s) => s.part === r.part && s.setup === setup && s.side === 'reembed' && s.variant === v)
        .filter((s) => s.line.phase === phase)
        .map((s) => s.line.breakdown_ms as Record<string, number>);
      if (lines.length === 0) continue;
      const parts = Object.keys(lines[0] as object).map((k) => {
        const value = Math.round(median(lines.map((l) => l[k] as number)));
        return k.endsWith('_calls') ? `${k} ${value}` : `${k} ${value} ms`;
      });
      const label = phase === 'model_upgrade' ? `model_upgrade (${variantLabel(v)})` : phase;
      out.push(`- ${setup === 'memory' ? 'sqlite' : setup} ${label}: ${parts.join(', ')}`);
    }
  }
  return out;
}

function peerBreakdown(samples: readonly Sample[], r: PartResult): string[] {
  const out: string[] = [];
  for (const setup of r.setups) {
    for (const phase of ['full', 'noop', 'incremental']) {
      const lines = samples
        .filter((s) => s.part === r.part && s.setup === setup && s.side === 'peer' && s.line.phase === phase)
        .map((s) => s.line.breakdown_ms as Record<string, number> | undefined)
        .filter((b): b is Record<string, number> => b !== undefined);
      if (lines.length === 0) continue;
      const med = Object.keys(lines[0] as object)
        .map((k) => [k, median(lines.map((l) => l[k] as number))] as const)
        .filter(([, v]) => v >= 1)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4);
      out.push(`- ${setup} ${phase}: ${med.map(([k, v]) => `${k} ${Math.round(v)} ms`).join(', ')}`);
    }
  }
  return out;
}

const SEMANTICS = `## Semantic differences (read before comparing numbers)

- **Same input, same embedding work.** reembed embeds with \`bench/peer-embedder.ts\`, a copy of the peer's
  \`HashingEmbeddings\` (lowercase, split on \`/[^a-z0-9]+/\`, FNV-1a from \`0x811c9dc5 ^ imul(seed, 0x9e3779b1)\`,
  signed \`(h & 0x7fffffff) % dim\`, L2) registered as provider \`peer-hashing\`; 384-d seed 1, then 768-d seed 2.
  With latency, both wait once per document batch of 128 (reembed: \`maxBatchSize\` 128; queries never wait).
  The corpus and mutation plan come from \`bench/workload.ts\`, fingerprint-checked against the peer's
  \`corpus_sha256\` (above).
- **Change detection.** Both skip unchanged documents by content hash. LangChain hashes every document
  (SHA-256 + UUIDv5 in JS) on every call and asks its record manager; reembed compares with the retained
  source's content hash (\`ingest\` → \`changed\`/\`unchanged\`). reembed ingests in calls of 2,048 documents
  (16 embed batches); only changed documents are embedded, coalesced into full batches of 128 per call,
  which is why its incremental phase makes far fewer embed calls than the peer's one-call-per-128-batch.
- **Deletes.** LangChain's \`cleanup:"incremental"\` cannot remove documents that left the source: after the
  peer's \`incremental\` phase the deleted documents are still stored and retrievable (its verification
  fails by design), and a second \`cleanup:"full"\` pass over the whole corpus (\`incremental_deletes\`) is
  needed. reembed's \`incremental\` phase is \`ingest(whole new corpus)\` + \`delete(ids)\`: a tombstone at the
  source, applied to every active namespace, so it is correct after one phase. Compare the row
  "incremental, until correct". reembed would not need the whole corpus at all (a change feed of 200
  changed documents + 100 ids is enough); we pass it anyway to do the peer's work.
- **Ids.** LangChain's store ids are content hashes, so an edit is an insert + a delete; reembed keys records
  by source id and replaces a source's records only with a newer version (versioned upsert, invariant 4).
- **Model upgrade.** LangChain: a second full \`index()\` into a new store with a new record-manager
  namespace (its keys ignore the model), with no cut-over: the application must switch stores itself.
  reembed: \`MigrationService.start({ strategy: 'blue-green' })\` (target namespace created, dual-writes
  from then on) + \`step\` (checkpointed, concurrent backfill from the retained sources, then coverage
  validation) + \`cutover\` (gates, then one atomic alias write). The timed reembed figure includes all
  three; the breakdown is below. The old namespace stays (retiring) for rollback in both cases.
- **Commits per batch.** reembed's LanceDB store commits every \`write\` call once (all-or-nothing): a plain
  append (\`table.add\`) when the namespace holds none of the call's sources — a backfill into the new
  namespace, new documents — else a conditional \`mergeInsert\` (only newer source versions replace stored
  rows). Each call reads its sources' stored state first, so a batch retried after a crash is skipped, not
  doubled. Batches that finish embedding while a commit runs commit together (group commit): a 20k upgrade
  makes 21–22 writes. The peer's LanceDB shim appends with \`table.add\` and checks nothing. The \`backfill
  batch 1024\` rows (diagnostic, not a default) show what fewer commits change. \`ingest\` writes once per
  call (2,048 docs).
- **Concurrency.** \`ingest\` embeds its batches one after another, like \`index()\`, so with a slow
  embedder the \`full\` phase is capped at 128 docs / 50 ms on both sides; only the backfill (model
  upgrade) runs batches concurrently (default 4).
- **Storage is not the same.** The peer's memory setup keeps vectors in the JS heap and loses everything on
  exit; reembed's first setup is durable (SQLite file, WAL). The LanceDB setups use different LanceDB
  versions (peer pinned 0.19.1 by its community peer range; reembed 0.37.1), and reembed keeps its
  catalog, sources and checkpoints in SQLite beside LanceDB.
- **Timing.** The peer waits 1.1 s untimed before each phase (its SQLite record manager has 1-second
  timestamps); reembed waits 0.2 s and collects garbage before each phase. Verification is untimed on both
  sides. Peak RSS is the whole process, sampled every 50 ms by a worker thread on both sides; each setup
  runs in its own process on both sides. reembed's process runs TypeScript through tsx and loads both
  SQLite and (in the LanceDB setup) LanceDB 0.37, so its idle RSS starts higher than the peer's plain
  \`node bench.mjs\`; its backfill also starts a reader thread (own isolate and SQLite connection).`;

export function peerMarkdown(input: {
  samples: readonly Sample[];
  results: readonly PartResult[];
  peerVersions: Record<string, unknown>;
  runs: number;
  argv: readonly string[];
  scratch: string;
}): string {
  const { samples, results } = input;
  const m = machineInfo();
  const out: string[] = [
    '# reembed vs LangChain.js `index()` + RecordManager',
    '',
    `Generated by \`npx tsx bench/peer-langchain.ts ${input.argv.join(' ')}\` — medians of ${input.runs} runs per cell, `,
    'peer and reembed interleaved (the order rotates each run). Ratio = reembed docs/s ÷ peer docs/s (above 1: reembed is faster).',
    '',
    `Machine: ${m.cpu}, ${m.memory}, ${m.platform}, Node ${m.node}, ${m.date}. Shared and noisy: see the min–max spread.`,
    `Peer versions: ${JSON.stringify(input.peerVersions)}.`,
    `reembed: better-sqlite3 ${ourVersion('better-sqlite3')}, @lancedb/lancedb ${ourVersion('@lancedb/lancedb')}.`,
    '',
    `Corpus + mutation plan sha256 (prefix): ${results.map((r) => corpusCheck(samples, r.n)).join('; ')}.`,
  ];
  for (const r of results) {
    out.push(
      '',
      `## N=${r.n.toLocaleString('en-US')}, ${r.latency > 0 ? `embedder latency ${r.latency} ms per batch of 128` : 'embedder latency 0'}`,
    );
    for (const setup of r.setups) {
      out.push(
        '',
        `### ${SETUP_HEADING[setup] ?? setup} (\`--stores=${setup}\`)`,
        '',
        SETUP_TITLE[setup] ?? setup,
        '',
        markdownTable(rowsOf(samples, r.part, setup, r.variants)),
      );
    }
    out.push(
      '',
      'Where reembed spends its time (medians; `embed` and `store_*` are summed over calls, which overlap in a',
      'concurrent backfill; model_upgrade = start + backfill_and_validate + gates_and_cutover):',
      ...reembedBreakdown(samples, r),
    );
    out.push(
      '',
      'Where the peer spends its time (medians of its `breakdown_ms`, top items):',
      ...peerBreakdown(samples, r),
    );
    if (r.failures.length) out.push('', '**Failed processes:**', ...r.failures.map((f) => `- ${f}`));
  }
  out.push(
    '',
    '## Reproduce',
    '',
    '```',
    'cp -r ../shared/peers/langchain-index /tmp/peer-langchain && chmod -R u+w /tmp/peer-langchain',
    '(cd /tmp/peer-langchain && npm ci || npm install)   # see note below',
    `npx tsx bench/peer-langchain.ts ${input.argv.join(' ')}`,
    '# what it runs per setup and run (JSON lines on stdout):',
    '#   (cd /tmp/peer-langchain && node bench.mjs --n=20000 --stores=memory --embed-latency-ms=0 --out=…)',
    '#   node --import tsx bench/peer-langchain.ts --child=reembed --setup=sqlite --n=20000 --latency=0 --concurrency=default',
    '#   … --backfillBatch=1024 (diagnostic variant), and --n=5000 --embed-latency-ms=50 / --latency=50',
    '#   --concurrency=default|8 for the latency part',
    '```',
    '',
    "Note: with npm 11, `npm ci` refuses the peer's lock file (it lacks the non-linux-x64 optional LanceDB",
    'binaries); `npm install` in the copy resolves the identical locked versions.',
    '',
    SEMANTICS,
    '',
    `Raw JSON lines of this run: ${input.scratch}/run.json (not committed); \`--render=${input.scratch}\``,
    'rewrites this file from it.',
    '',
  );
  return out.join('\n');
}
