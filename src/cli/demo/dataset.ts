import { basename, join } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import { type GoldenSet, GoldenSetBuilder } from '../../core/golden.js';
import { type CorpusBatch, readCorpus, resolveCorpusFile } from '../../corpus/reader.js';
import { syntheticCorpus } from '../../corpus/synthetic.js';
import { isDirectory, isFile } from '../../eval/lines.js';
import { loadBeirGoldenSet } from '../../eval/load-golden.js';
import { countLines } from '../ingest-corpus.js';

/** A corpus plus its golden set, from a BEIR directory or the seeded synthetic generator. */
export interface DemoDataset {
  readonly name: string;
  readonly kind: 'beir' | 'synthetic';
  /** Human description, e.g. `BEIR directory ../shared/datasets/scifact`. */
  readonly source: string;
  /** Number of corpus lines (an upper bound on documents, for progress totals). */
  readonly size: number;
  /**
   * A fresh pass over the corpus, in batches. Invalid lines (e.g. documents with no text) are skipped
   * and reported through `onInvalid`: the demo must run on any BEIR collection, as real ones have them.
   */
  batches(
    batchSize: number,
    onInvalid?: (error: ReembedError) => void,
  ): AsyncIterable<CorpusBatch> | Iterable<CorpusBatch>;
  /** The judged queries; judged ids must be among `knownDocIds`. */
  golden(knownDocIds: ReadonlySet<string>): Promise<GoldenSet>;
}

export async function beirDataset(dir: string): Promise<DemoDataset> {
  if (!(await isDirectory(dir))) {
    throw new ReembedError(
      'NOT_FOUND',
      `--dataset ${dir} is not a directory: give a BEIR directory (corpus.jsonl, queries.jsonl, qrels.tsv).`,
      {
        details: { dir },
      },
    );
  }
  const corpus = await resolveCorpusFile(dir);
  if (!(await isFile(join(dir, 'queries.jsonl')))) {
    throw new ReembedError(
      'NOT_FOUND',
      `${dir} has no queries.jsonl: the demo needs judged queries (BEIR layout).`,
      {
        details: { dir },
      },
    );
  }
  return {
    name: basename(dir),
    kind: 'beir',
    source: `BEIR directory ${dir}`,
    size: await countLines(corpus),
    batches: (batchSize, onInvalid) => readCorpus(corpus, { batchSize, ...(onInvalid ? { onInvalid } : {}) }),
    golden: (knownDocIds) => loadBeirGoldenSet(dir, { knownDocIds }),
  };
}

export function syntheticDataset(seed: number, docs: number, queries: number): DemoDataset {
  const corpus = syntheticCorpus({ seed, docs, queries });
  return {
    name: `synthetic-${seed}`,
    kind: 'synthetic',
    source: `synthetic corpus (seed ${seed}: ${docs} documents, ${queries} queries with graded judgments)`,
    size: corpus.docs.length,
    *batches(batchSize) {
      for (let offset = 0; offset < corpus.docs.length; offset += batchSize) {
        const docs = corpus.docs.slice(offset, offset + batchSize);
        yield { file: '(synthetic)', docs, lines: docs.map((_, i) => offset + i + 1), offset };
      }
    },
    async golden(knownDocIds) {
      const builder = new GoldenSetBuilder(`synthetic-${seed}`);
      for (const q of corpus.queries) builder.addQuery(q.id, q.text);
      for (const [queryId, judgments] of Object.entries(corpus.qrels)) {
        for (const [docId, grade] of Object.entries(judgments)) builder.addJudgment(queryId, docId, grade);
      }
      return builder.build({ knownDocIds });
    },
  };
}
