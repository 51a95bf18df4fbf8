import { ReembedError } from '../core/errors.js';
import type { Qrels } from '../core/metrics.js';
import { Random, zipfCdf } from './prng.js';
import { BACKGROUND_WORDS, inventWords } from './words.js';

/**
 * A seeded synthetic retrieval collection, realistic enough that model choice matters:
 * - topics, each split into subtopics, with their own Zipf-distributed vocabularies, over shared English
 *   background words (so raw term overlap is noisy);
 * - every concept has one to three synonymous surface forms; a document sticks to one form per concept,
 *   a query picks forms independently — a bag-of-words model (feature hashing) misses paraphrases, while
 *   a model fitted on the corpus (LSA) learns that synonyms co-occur with the same neighbours;
 * - queries are written from a subtopic's vocabulary, not copied from a document, and judged with graded
 *   relevance: every document of the subtopic is relevant (1), those that discuss every subtopic concept
 *   of the query (mention it at least DISCUSSED times) are highly relevant (2).
 * The same seed and sizes always give the same corpus.
 *
 * Measured at 256 dimensions (seed 42, 2,000 documents, 150 queries, exact search), recall@10 / nDCG@10:
 * hashing with sublinear tf 0.70 / 0.67; LSA fitted on the corpus 0.97 / 0.87 (the corpus is a clean
 * topic model, so a topic model finds the subtopic and loses only on the grading); an index half hashing,
 * half LSA, queried with LSA 0.51 / 0.59.
 * Real-data numbers come from a BEIR collection (`reembed demo --dataset`).
 */
export interface SyntheticCorpusOptions {
  readonly seed: number;
  readonly docs: number;
  readonly queries: number;
}

export interface SyntheticDocument {
  readonly id: string;
  readonly text: string;
  readonly metadata: { readonly topic: string; readonly subtopic: string };
}

export interface SyntheticQuery {
  readonly id: string;
  readonly text: string;
}

export interface SyntheticCorpus {
  readonly kind: 'synthetic-corpus';
  readonly seed: number;
  readonly docs: readonly SyntheticDocument[];
  readonly queries: readonly SyntheticQuery[];
  readonly qrels: Qrels;
}

interface Concept {
  readonly forms: readonly string[];
}

interface Vocabulary {
  readonly concepts: readonly Concept[];
  readonly cdf: Float64Array;
}

interface Topic extends Vocabulary {
  readonly name: string;
  readonly subtopics: readonly Vocabulary[];
}

const SUBTOPICS_PER_TOPIC = 5;
const DOCS_PER_SUBTOPIC = 8;
const TOPIC_CONCEPTS = 12;
const SUBTOPIC_CONCEPTS = 6;
/** Share of document tokens drawn from: background, topic, subtopic; the rest is off-topic noise. */
const MIX = [0.25, 0.55, 0.92] as const;
/** How often a document uses each surface form of a concept (the first form is the common one). */
/** Mentions of a concept for a document to discuss it (every query concept discussed → grade 2). */
const DISCUSSED = 3;
const FORM_PREFERENCE = new Float64Array([0.55, 0.85, 1]);

export function syntheticCorpus(options: SyntheticCorpusOptions): SyntheticCorpus {
  const { seed, docs: docCount, queries: queryCount } = options;
  for (const [field, value] of [
    ['docs', docCount],
    ['queries', queryCount],
    ['seed', seed],
  ] as const) {
    if (!Number.isInteger(value) || value < (field === 'seed' ? 0 : 1)) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Synthetic corpus: ${field} must be a positive integer, got ${value}.`,
        {
          details: { field, value },
        },
      );
    }
  }
  const random = new Random(seed);
  const taken = new Set(BACKGROUND_WORDS);
  const topicCount = Math.max(2, Math.round(docCount / (SUBTOPICS_PER_TOPIC * DOCS_PER_SUBTOPIC)));
  const topics = Array.from({ length: topicCount }, (_, t) => makeTopic(random, taken, t));
  const background = zipfCdf(BACKGROUND_WORDS.length, 1);

  const docs: SyntheticDocument[] = [];
  /** Per document: its subtopic key and how often it mentions each subtopic concept. */
  const mentions: { key: string; concepts: Map<number, number> }[] = [];
  const bySubtopic = new Map<string, number[]>();
  for (let i = 0; i < docCount; i++) {
    const t = random.int(topicCount);
    const s = random.int(SUBTOPICS_PER_TOPIC);
    const { text, concepts } = writeDocument(random, topics, t, s, background);
    const key = `${t}.${s}`;
    docs.push(
      Object.freeze({
        id: docId(i, docCount),
        text,
        metadata: Object.freeze({ topic: `t${t}`, subtopic: `t${t}.${s}` }),
      }),
    );
    mentions.push({ key, concepts });
    const members = bySubtopic.get(key) ?? [];
    members.push(i);
    bySubtopic.set(key, members);
  }

  const eligible = [...bySubtopic.keys()].filter((k) => (bySubtopic.get(k) as number[]).length >= 2).sort();
  if (eligible.length === 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Synthetic corpus: ${docCount} documents are too few to judge queries; use at least 20.`,
      {
        details: { docs: docCount },
      },
    );
  }
  const queries: SyntheticQuery[] = [];
  const qrels: Record<string, Record<string, number>> = {};
  for (let j = 0; j < queryCount; j++) {
    const key = random.pick(eligible);
    const [t, s] = key.split('.').map(Number) as [number, number];
    const topic = topics[t] as Topic;
    const sub = topic.subtopics[s] as Vocabulary;
    const picked = random.weightedDistinct(sub.cdf, random.between(3, 4));
    const words = picked.map((c) => anyForm(random, sub.concepts[c] as Concept));
    words.push(anyForm(random, topic.concepts[random.weighted(topic.cdf)] as Concept));
    if (random.next() < 0.5)
      words.splice(random.int(words.length), 0, BACKGROUND_WORDS[random.weighted(background)] as string);
    const id = `q${String(j + 1).padStart(String(queryCount).length, '0')}`;
    queries.push(Object.freeze({ id, text: words.join(' ') }));
    const judgments: Record<string, number> = {};
    for (const d of bySubtopic.get(key) as number[]) {
      const doc = mentions[d] as { concepts: Map<number, number> };
      const discussed = picked.every((c) => (doc.concepts.get(c) ?? 0) >= DISCUSSED);
      judgments[(docs[d] as SyntheticDocument).id] = discussed ? 2 : 1;
    }
    qrels[id] = Object.freeze(judgments);
  }
  return Object.freeze({
    kind: 'synthetic-corpus' as const,
    seed,
    docs: Object.freeze(docs),
    queries: Object.freeze(queries),
    qrels: Object.freeze(qrels),
  });
}

/** A surface form drawn with the usual preference (the common form most often), independently of any document. */
function anyForm(random: Random, concept: Concept): string {
  const n = concept.forms.length;
  return concept.forms[n === 1 ? 0 : Math.min(random.weighted(FORM_PREFERENCE), n - 1)] as string;
}

function docId(i: number, count: number): string {
  return `doc-${String(i + 1).padStart(Math.max(5, String(count).length), '0')}`;
}

function makeVocabulary(random: Random, taken: Set<string>, size: number): Vocabulary {
  const concepts: Concept[] = [];
  for (let c = 0; c < size; c++) {
    const u = random.next();
    const forms = u < 0.3 ? 1 : u < 0.7 ? 2 : 3;
    concepts.push(Object.freeze({ forms: Object.freeze(inventWords(random, forms, taken)) }));
  }
  return { concepts, cdf: zipfCdf(size, 0.9) };
}

function makeTopic(random: Random, taken: Set<string>, index: number): Topic {
  const base = makeVocabulary(random, taken, TOPIC_CONCEPTS);
  const subtopics = Array.from({ length: SUBTOPICS_PER_TOPIC }, () =>
    makeVocabulary(random, taken, SUBTOPIC_CONCEPTS),
  );
  return { ...base, name: `t${index}`, subtopics };
}

function writeDocument(
  random: Random,
  topics: readonly Topic[],
  t: number,
  s: number,
  background: Float64Array,
): { text: string; concepts: Map<number, number> } {
  const topic = topics[t] as Topic;
  const sub = topic.subtopics[s] as Vocabulary;
  const formOf = new Map<Concept, string>();
  const concepts = new Map<number, number>();
  const say = (concept: Concept): string => {
    let form = formOf.get(concept);
    if (form === undefined) {
      form = anyForm(random, concept);
      formOf.set(concept, form);
    }
    return form;
  };
  const length = random.between(50, 140);
  const tokens: string[] = [];
  for (let i = 0; i < length; i++) {
    const u = random.next();
    if (u < MIX[0]) tokens.push(BACKGROUND_WORDS[random.weighted(background)] as string);
    else if (u < MIX[1]) tokens.push(say(topic.concepts[random.weighted(topic.cdf)] as Concept));
    else if (u < MIX[2]) {
      const c = random.weighted(sub.cdf);
      concepts.set(c, (concepts.get(c) ?? 0) + 1);
      tokens.push(say(sub.concepts[c] as Concept));
    } else {
      const other = random.pick(topics);
      tokens.push(random.pick((other.concepts[random.weighted(other.cdf)] as Concept).forms));
    }
  }
  return { text: sentences(random, tokens), concepts };
}

/** Groups tokens into capitalised sentences of 8–16 words, so documents read like prose in search output. */
function sentences(random: Random, tokens: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const n = random.between(8, 16);
    const words = tokens.slice(i, i + n);
    i += n;
    const first = words[0] as string;
    words[0] = first.charAt(0).toUpperCase() + first.slice(1);
    out.push(`${words.join(' ')}.`);
  }
  return out.join(' ');
}
