import type * as Zod from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import { ReembedError } from './errors.js';
import { deepFreeze } from './freeze.js';
import type { GoldenSet } from './golden.js';
import {
  isContentWord,
  occurrences,
  removeRanges,
  splitSentences,
  type TextPiece,
  tokenPieces,
  wordLength,
} from './probe-text.js';
import { assertSetName, STORED_SETS, unknownSet } from './set-names.js';
import { lazyZod } from './zod.js';

/**
 * A probe set: a quality check a collection builds from itself when nobody judged any queries. A seeded
 * sample of its live documents is turned into known-item queries — the document's title, one of its
 * sentences, or a span of its content words — with the document as the one relevant answer. No language
 * model is involved, so building one costs nothing and is reproducible from (collection, seed, params).
 *
 * By default each query is *held out* of its document (the inverse cloze task of Lee et al., 2019): at
 * evaluation the document competes with the query's words removed, so a space cannot find it by matching
 * the query's own words back and must recognise that the rest of the document is about the same thing.
 * That is what judged queries measure too, and it keeps a probe from favouring purely lexical spaces.
 * Probe results are always labelled *probe*: they are cheaper and cruder than a judged golden set.
 */
export const PROBE_KINDS = ['title', 'sentence', 'span'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** The probe parameters' schema, built with zod on first use (importing this module loads no zod). */
const probeParamsSchema = lazyZod((z) =>
  z
    .object({
      /** Seed of the sample and of every draw: the same seed over the same collection gives the same probe. */
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(1),
      /** Queries wanted (one per sampled document). */
      size: z.number().int().min(30).max(100_000).default(300),
      /** Relative weights of the query kinds; a kind a document cannot give falls back to another. */
      mix: z
        .object({
          title: z.number().min(0).default(1),
          sentence: z.number().min(0).default(1),
          span: z.number().min(0).default(0),
        })
        .strict()
        .default({})
        .refine((m) => m.title + m.sentence + m.span > 0, 'at least one kind needs a positive weight'),
      /** Evaluate each document with its query removed (default true; false keeps the stored document). */
      holdOut: z.boolean().default(true),
      /** Sentence length bounds, in words. */
      minWords: z.number().int().min(1).default(5),
      maxWords: z.number().int().min(1).default(40),
      /** Content words in a span query. */
      spanWords: z.number().int().min(2).max(64).default(8),
      /** Queries are cut from the first this-many words, which every model sees before truncating. */
      windowWords: z.number().int().min(10).default(200),
    })
    .strict()
    .refine((p) => p.maxWords >= p.minWords, 'maxWords must be at least minWords'),
);

export type ProbeParams = Zod.infer<ReturnType<typeof probeParamsSchema>>;
export type ProbeParamsInput = Zod.input<ReturnType<typeof probeParamsSchema>>;

export function resolveProbeParams(input: unknown = {}): ProbeParams {
  const parsed = probeParamsSchema().safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ReembedError('INVALID_INPUT', `Invalid probe parameters: ${issues.join('; ')}.`, {
      details: { issues },
    });
  }
  return parsed.data;
}

/** A document a probe query can be cut from. `title` is the document's own title when it has one. */
export interface ProbeDocument {
  readonly id: string;
  readonly text: string;
  readonly tenant: string | null;
  readonly contentHash: string;
  readonly title?: string | null;
}

export interface ProbeQuery {
  /** `p` + position, e.g. `p0007`. */
  readonly id: string;
  /** The document this query must find (its one relevant answer). */
  readonly sourceId: string;
  readonly tenant: string | null;
  /** The source's content hash when the query was cut: a changed document makes the query stale. */
  readonly contentHash: string;
  readonly kind: ProbeKind;
  readonly text: string;
  /** The document with the query removed, evaluated in its place; null when the probe does not hold out. */
  readonly heldOut: string | null;
}

/** Why sampled documents gave no query (counted per reason). */
export const PROBE_SKIP_REASONS = ['too-short', 'no-usable-text'] as const;
export type ProbeSkipReason = (typeof PROBE_SKIP_REASONS)[number];

export interface ProbePopulation {
  /** Live documents of the collection when the probe was built. */
  readonly live: number;
  /** Per tenant (`''` for none): live documents and queries drawn from them. */
  readonly tenants: Readonly<Record<string, { readonly live: number; readonly queries: number }>>;
}

export interface ProbeSet {
  readonly kind: 'probe-set';
  readonly name: string;
  readonly collection: string;
  readonly params: ProbeParams;
  readonly queries: readonly ProbeQuery[];
  readonly population: ProbePopulation;
  readonly skipped: Readonly<Partial<Record<ProbeSkipReason, number>>>;
  /** `pb_` + 16 hex of the canonical collection, params and queries. */
  readonly digest: string;
}

export function isProbeSet(value: unknown): value is ProbeSet {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'probe-set';
}

/** Fewer queries than this cannot tell two spaces apart: the gate asks for a judged set instead. */
export const MIN_PROBE_QUERIES = 30;
/** With fewer documents every space finds everything: a known-item probe says nothing. */
export const MIN_PROBE_DOCUMENTS = 50;

export function probeDigest(collection: string, params: ProbeParams, queries: readonly ProbeQuery[]): string {
  return `pb_${sha256Hex(canonicalJson({ collection, params, queries })).slice(0, 16)}`;
}

export function probeSetValue(fields: Omit<ProbeSet, 'kind' | 'digest'>): ProbeSet {
  return deepFreeze({
    kind: 'probe-set' as const,
    ...fields,
    digest: probeDigest(fields.collection, fields.params, fields.queries),
  });
}

/**
 * The probe as a golden set (each query judges its own document relevant), so recall@k, MRR and nDCG are
 * computed by exactly the code that scores judged sets. Its name says `probe:` so no report mistakes it
 * for a judged set.
 */
export function probeAsGolden(probe: ProbeSet, queries: readonly ProbeQuery[] = probe.queries): GoldenSet {
  const qrels: Record<string, Readonly<Record<string, number>>> = Object.create(null);
  for (const q of queries) qrels[q.id] = Object.freeze({ [q.sourceId]: 1 });
  return Object.freeze({
    kind: 'golden-set' as const,
    name: `probe:${probe.name}`,
    queries: Object.freeze(queries.map((q) => Object.freeze({ id: q.id, text: q.text }))),
    qrels: Object.freeze(qrels),
    skipped: Object.freeze({ noJudgments: 0, noRelevant: 0, judgmentsWithoutQuery: 0 }),
    judgments: queries.length,
    digest: probe.digest,
  });
}

/**
 * Cuts one query from a document, or says why it cannot. `draw` is the document's own seeded random
 * source (so a document's query does not depend on the others); `idf` weighs span positions towards
 * rarer, more topical words.
 */
export function probeQueryOf(
  doc: ProbeDocument,
  params: ProbeParams,
  draw: () => number,
  idf: (word: string) => number,
): Omit<ProbeQuery, 'id'> | { readonly skipped: ProbeSkipReason } {
  const text = doc.text;
  const words = wordLength(text);
  if (words < Math.max(2 * params.minWords, 12)) return { skipped: 'too-short' };
  const window = windowEnd(text, params.windowWords);
  const sentences = splitSentences(text);
  const title = titleOf(doc, sentences);
  const body = sentences.filter(
    (s) =>
      s.start < window &&
      (title === null || s.start !== title.start) &&
      between(wordLength(s.text), params.minWords, params.maxWords),
  );
  const available: Record<ProbeKind, boolean> = {
    title: title !== null,
    sentence: body.length > 0,
    span: true,
  };
  const order = kindOrder(params, draw());
  for (const kind of order) {
    if (!available[kind]) continue;
    const cut =
      kind === 'title'
        ? titleCut(text, title as TextPiece)
        : kind === 'sentence'
          ? sentenceCut(text, body[Math.floor(draw() * body.length)] as TextPiece)
          : spanCut(text, window, params.spanWords, draw, idf);
    if (cut === null) continue;
    const heldOut = params.holdOut ? removeRanges(text, cut.remove) : null;
    if (heldOut !== null && wordLength(heldOut) < params.minWords * 2) continue;
    return {
      sourceId: doc.id,
      tenant: doc.tenant,
      contentHash: doc.contentHash,
      kind,
      text: cut.query,
      heldOut,
    };
  }
  return { skipped: 'no-usable-text' };
}

interface Cut {
  readonly query: string;
  readonly remove: readonly { start: number; end: number }[];
}

const between = (n: number, lo: number, hi: number): boolean => n >= lo && n <= hi;

/** Offset where the first `words` words end (the whole text when shorter). */
function windowEnd(text: string, words: number): number {
  const tokens = tokenPieces(text);
  return tokens.length <= words ? text.length : (tokens[words - 1] as TextPiece).end;
}

/**
 * The document's title: its `title` when it has one and the text contains it, else its first sentence
 * when more sentences follow and it is short (ingested BEIR documents begin with their title).
 */
function titleOf(doc: ProbeDocument, sentences: readonly TextPiece[]): TextPiece | null {
  const declared = doc.title?.trim();
  if (declared) {
    const at = doc.text.indexOf(declared);
    return at >= 0 && wordLength(declared) >= 2
      ? { text: declared, start: at, end: at + declared.length }
      : null;
  }
  const first = sentences[0];
  if (!first || sentences.length < 3) return null;
  return between(wordLength(first.text), 3, 30) ? first : null;
}

/** A title, removed everywhere it occurs (Cranfield repeats it at the start of the text). */
function titleCut(text: string, title: TextPiece): Cut {
  const bare = title.text.replace(/[\s.!?:;。]+$/u, '');
  return { query: title.text, remove: [...occurrences(text, title.text), ...occurrences(text, bare)] };
}

function sentenceCut(text: string, sentence: TextPiece): Cut {
  return { query: sentence.text, remove: occurrences(text, sentence.text) };
}

/**
 * A window of `size` content words, drawn with probability proportional to the summed IDF of its words
 * (a window of rare words says more about the document than one of common ones, without always taking
 * the single rarest window, which would favour exact-match spaces). Removed with everything between its
 * first and last word.
 */
function spanCut(
  text: string,
  window: number,
  size: number,
  draw: () => number,
  idf: (word: string) => number,
): Cut | null {
  const content = tokenPieces(text).filter((t) => t.start < window && isContentWord(t.text));
  const starts = content.length - size + 1;
  if (starts < 1) return null;
  const mass = new Float64Array(starts);
  let total = 0;
  for (let i = 0; i < starts; i++) {
    let m = 0;
    for (let j = i; j < i + size; j++) m += Math.max(idf((content[j] as TextPiece).text), 1e-3);
    mass[i] = m;
    total += m;
  }
  let u = draw() * total;
  let at = starts - 1;
  for (let i = 0; i < starts; i++) {
    u -= mass[i] as number;
    if (u <= 0) {
      at = i;
      break;
    }
  }
  const picked = content.slice(at, at + size);
  const first = picked[0] as TextPiece;
  const last = picked[picked.length - 1] as TextPiece;
  return { query: picked.map((t) => t.text).join(' '), remove: [{ start: first.start, end: last.end }] };
}

/** Kinds in the order to try: one drawn by weight first, then the rest by weight. */
function kindOrder(params: ProbeParams, u: number): ProbeKind[] {
  const weighted = PROBE_KINDS.filter((k) => params.mix[k] > 0);
  const total = weighted.reduce((s, k) => s + params.mix[k], 0);
  let rest = u * total;
  let first = weighted[weighted.length - 1] as ProbeKind;
  for (const k of weighted) {
    rest -= params.mix[k];
    if (rest < 0) {
      first = k;
      break;
    }
  }
  const fallbacks: ProbeKind[] = ['sentence', 'title', 'span'];
  return [first, ...fallbacks.filter((k) => k !== first)];
}

/** Probe set names are catalog keys (referenced as `probe:<name>`): letters, digits, `.`, `_`, `-`. */
export function assertProbeName(name: string): void {
  assertSetName(STORED_SETS.probe, name);
}

export function unknownProbeSet(name: string, known: readonly string[]): ReembedError {
  return unknownSet(STORED_SETS.probe, name, known);
}

/** A stored probe whose rows no longer hash to its digest was edited outside reembed. */
export function probeDigestMismatch(name: string, saved: string, read: string): ReembedError {
  return new ReembedError(
    'STORE_FAILED',
    `Stored probe set "${name}" does not match its digest (saved ${saved}, read ${read}): its rows were changed outside reembed. Build it again (reembed probe create --replace).`,
    { details: { name, saved, read } },
  );
}

export function probeExists(name: string, held: string, savedAt: string, incoming: string): ReembedError {
  return new ReembedError(
    'ALREADY_EXISTS',
    `Probe set "${name}" already exists with other content (${held}, saved ${savedAt}); pick another name or replace it (--replace).`,
    { details: { name, held, incoming } },
  );
}

/** One candidate of a probe query's ranking: a source and its best score (higher is better). */
export interface ScoredSource {
  readonly sourceId: string;
  readonly score: number;
}

/**
 * The ranking a probe query is scored on: the search's hits without the query's own document and without
 * near-duplicates of it (`ignore`), and the document itself — held out, with its own score — placed after
 * every hit that scores at least as high (ties count against it). Source ids, best first.
 *
 * @example heldOutRanking([{ sourceId: 'a', score: .9 }, { sourceId: 'd', score: .8 }], { sourceId: 'd', score: .5 }, new Set())
 * // ['a', 'd']: the stored 'd' is replaced by its held-out version at its own score
 */
export function heldOutRanking(
  hits: readonly ScoredSource[],
  target: ScoredSource,
  ignore: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  let placed = false;
  for (const hit of hits) {
    if (hit.sourceId === target.sourceId || ignore.has(hit.sourceId)) continue;
    if (!placed && hit.score < target.score) {
      out.push(target.sourceId);
      placed = true;
    }
    out.push(hit.sourceId);
  }
  if (!placed) out.push(target.sourceId);
  return out;
}
