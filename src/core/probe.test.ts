import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  heldOutRanking,
  type ProbeDocument,
  probeAsGolden,
  probeQueryOf,
  resolveProbeParams,
} from './probe.js';
import { ProbeSampler, quotas } from './probe-sample.js';
import { isNearDuplicate, splitSentences, wordLength, wordSet } from './probe-text.js';

const SENTENCES = [
  'Vitamin D deficiency is associated with a higher risk of hip fractures in older adults.',
  'We followed a cohort of twelve thousand patients over ten years in three hospitals.',
  'Serum levels were measured at baseline and every two years thereafter by a central laboratory.',
  'Low serum levels predicted fractures independently of bone mineral density and age.',
  'Supplementation trials are needed to establish whether correcting deficiency prevents fractures.',
];

function doc(id: string, text: string, tenant: string | null = null, title?: string): ProbeDocument {
  return { id, text, tenant, contentHash: `h-${id}-${text.length}`, ...(title ? { title } : {}) };
}

const draw = (seed: number) => {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
};
const flatIdf = () => 1;

describe('probe text', () => {
  it('splits sentences at punctuation followed by space, and at CJK full stops', () => {
    expect(splitSentences('One two. Three four! Five?').map((s) => s.text)).toEqual([
      'One two.',
      'Three four!',
      'Five?',
    ]);
    expect(splitSentences('维生素D缺乏与骨折有关。我们随访了患者。').map((s) => s.text)).toEqual([
      '维生素D缺乏与骨折有关。',
      '我们随访了患者。',
    ]);
    const text = '  Lead sentence.  Next one ';
    for (const s of splitSentences(text)) expect(text.slice(s.start, s.end)).toBe(s.text);
  });

  it('counts words, every CJK character as one', () => {
    expect(wordLength('Vitamin D and hip fractures')).toBe(5);
    expect(wordLength('维生素缺乏')).toBe(5);
  });

  it('finds near-duplicates by word-set Jaccard, not by shared topic', () => {
    const a = wordSet(SENTENCES.join(' '));
    expect(isNearDuplicate(a, wordSet(`${SENTENCES.join(' ')} Updated.`))).toBe(true);
    expect(isNearDuplicate(a, wordSet(SENTENCES.slice(0, 2).join(' ')))).toBe(false);
    expect(isNearDuplicate(a, new Set())).toBe(false);
  });
});

describe('probe queries', () => {
  const params = resolveProbeParams();

  it('cuts a sentence and holds it out: the rest of the document no longer contains it', () => {
    const d = doc('d1', SENTENCES.join(' '));
    const q = probeQueryOf(d, resolveProbeParams({ mix: { title: 0, sentence: 1 } }), draw(3), flatIdf);
    expect('skipped' in q).toBe(false);
    if ('skipped' in q) return;
    expect(q.kind).toBe('sentence');
    expect(SENTENCES).toContain(q.text);
    expect(q.text).not.toBe(SENTENCES[0]); // the lead sentence is the title candidate
    expect(q.heldOut).not.toContain(q.text);
    expect(wordLength(q.heldOut as string)).toBeGreaterThan(20);
  });

  it('uses a declared title, removed everywhere it occurs (Cranfield repeats it)', () => {
    const title = 'Hip fractures and vitamin D';
    const d = doc('d2', `${title}. ${title} . ${SENTENCES.slice(1).join(' ')}`, null, title);
    const q = probeQueryOf(d, resolveProbeParams({ mix: { title: 1, sentence: 0 } }), draw(5), flatIdf);
    if ('skipped' in q) throw new Error('expected a query');
    expect(q).toMatchObject({ kind: 'title', text: title });
    expect(q.heldOut).not.toContain('Hip fractures and vitamin D');
  });

  it('falls back to a content-word span for text without sentences, and skips what is too short', () => {
    const run =
      'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey';
    const q = probeQueryOf(doc('d3', run), params, draw(7), flatIdf);
    if ('skipped' in q) throw new Error('expected a span');
    expect(q.kind).toBe('span');
    expect(q.text.split(' ')).toHaveLength(params.spanWords);
    expect(q.heldOut).not.toContain(q.text.split(' ')[3]);
    expect(probeQueryOf(doc('d4', 'Too short to probe.'), params, draw(1), flatIdf)).toEqual({
      skipped: 'too-short',
    });
  });

  it('keeps documents whole when holdOut is off', () => {
    const q = probeQueryOf(
      doc('d5', SENTENCES.join(' ')),
      resolveProbeParams({ holdOut: false }),
      draw(2),
      flatIdf,
    );
    expect('skipped' in q ? null : q.heldOut).toBeNull();
  });

  it('refuses bad parameters with the field named', () => {
    expect(() => resolveProbeParams({ size: 5 })).toThrow(/size/);
    expect(() => resolveProbeParams({ mix: { title: 0, sentence: 0, span: 0 } })).toThrow(/positive weight/);
    expect(() => resolveProbeParams({ minWords: 10, maxWords: 5 })).toThrow(/maxWords/);
  });
});

describe('held-out ranking', () => {
  const hits = [
    { sourceId: 'a', score: 0.9 },
    { sourceId: 'd', score: 0.85 },
    { sourceId: 'b', score: 0.7 },
    { sourceId: 'c', score: 0.5 },
  ];
  it('replaces the stored document by its held-out version at its own score; ties count against it', () => {
    expect(heldOutRanking(hits, { sourceId: 'd', score: 0.6 }, new Set())).toEqual(['a', 'b', 'd', 'c']);
    expect(heldOutRanking(hits, { sourceId: 'd', score: 0.7 }, new Set())).toEqual(['a', 'b', 'd', 'c']);
    expect(heldOutRanking(hits, { sourceId: 'd', score: 0.1 }, new Set())).toEqual(['a', 'b', 'c', 'd']);
  });
  it('ignores near-duplicates of the document instead of counting them as misses', () => {
    expect(heldOutRanking(hits, { sourceId: 'd', score: 0.6 }, new Set(['a']))).toEqual(['b', 'd', 'c']);
  });
});

function corpus(n: number, tenants: readonly string[]): ProbeDocument[] {
  return Array.from({ length: n }, (_, i) =>
    doc(
      `doc-${i}`,
      `${SENTENCES[i % 5]} ${SENTENCES[(i + 1) % 5]} Case ${i} number ${i * 7}.`,
      tenants[i % tenants.length] ?? null,
    ),
  );
}

describe('probe sampling', () => {
  it('allocates queries by tenant share, at least one per tenant, never more than asked', () => {
    const q = quotas(100, [
      ['big', 9_000],
      ['mid', 950],
      ['tiny', 1],
      ['', 49],
    ]);
    expect([...q.values()].reduce((a, b) => a + b, 0)).toBe(100);
    expect(q.get('tiny')).toBe(1);
    expect(q.get('big')).toBeGreaterThan(85);
  });

  it('is a function of (seed, collection): insertion order does not matter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (shuffleSeed, seed) => {
          const docs = corpus(120, ['t1', 't2', 't3']);
          const shuffled = [...docs];
          const r = draw(shuffleSeed + 1);
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = Math.floor(r() * (i + 1));
            [shuffled[i], shuffled[j]] = [shuffled[j] as ProbeDocument, shuffled[i] as ProbeDocument];
          }
          const a = new ProbeSampler(resolveProbeParams({ seed, size: 40 }));
          const b = new ProbeSampler(resolveProbeParams({ seed, size: 40 }));
          for (const d of docs) a.add(d);
          for (const d of shuffled) b.add(d);
          expect(b.build('p', 'c').digest).toBe(a.build('p', 'c').digest);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('stratifies by tenant: a tenant with one document gets a query', () => {
    const sampler = new ProbeSampler(resolveProbeParams({ size: 30 }));
    for (const d of corpus(200, ['acme', 'globex'])) sampler.add(d);
    sampler.add(doc('lonely', SENTENCES.join(' '), 'solo'));
    const probe = sampler.build('p', 'c');
    expect(probe.population.tenants.solo).toEqual({ live: 1, queries: 1 });
    expect(probe.queries).toHaveLength(30);
    expect(new Set(probe.queries.map((q) => q.sourceId)).size).toBe(30);
    expect(probeAsGolden(probe).qrels[probe.queries[0]?.id as string]).toEqual({
      [probe.queries[0]?.sourceId as string]: 1,
    });
    expect(probeAsGolden(probe).name).toBe('probe:p');
  });

  it('says why it cannot: an empty collection, a dozen documents, documents too short to cut', () => {
    const empty = new ProbeSampler(resolveProbeParams());
    expect(() => empty.build('p', 'c')).toThrow(expect.objectContaining({ code: 'PROBE_UNAVAILABLE' }));
    const dozen = new ProbeSampler(resolveProbeParams());
    for (const d of corpus(12, ['t'])) dozen.add(d);
    expect(() => dozen.build('p', 'c')).toThrow(/12 live document\(s\); a probe needs at least 50/);
    const short = new ProbeSampler(resolveProbeParams());
    for (let i = 0; i < 80; i++) short.add(doc(`s${i}`, `Tiny note ${i}.`));
    expect(() => short.build('p', 'c')).toThrow(/Only 0 of the sampled documents .* 80 too-short/);
  });

  it('works on non-English text', () => {
    const de = [
      'Vitamin-D-Mangel ist mit einem höheren Risiko für Hüftfrakturen bei älteren Menschen verbunden.',
      'Wir haben eine Kohorte von zwölftausend Patienten über zehn Jahre in drei Kliniken begleitet.',
      'Niedrige Serumspiegel sagten Frakturen unabhängig von der Knochendichte und dem Alter voraus.',
    ];
    const zh = [
      '维生素D缺乏与老年人髋部骨折风险增加有关。',
      '我们在三家医院对一万二千名患者进行了十年的随访。',
      '血清水平低独立预测了骨折的发生。',
    ];
    const sampler = new ProbeSampler(resolveProbeParams({ size: 40 }));
    for (let i = 0; i < 60; i++) sampler.add(doc(`de${i}`, `${de.join(' ')} Fall ${i}.`));
    for (let i = 0; i < 60; i++) sampler.add(doc(`zh${i}`, `${zh.join('')}病例${i}。`));
    const probe = sampler.build('p', 'c');
    expect(probe.queries).toHaveLength(40);
    expect(probe.queries.some((q) => q.sourceId.startsWith('zh'))).toBe(true);
    for (const q of probe.queries) expect(q.heldOut).not.toContain(q.text);
  });
});
