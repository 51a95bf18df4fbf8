import type { Random } from './prng.js';

/**
 * Vocabulary for the synthetic corpus: real English background words shared by every topic (ordered
 * roughly by frequency, so a Zipf draw over them looks like English filler), and pronounceable invented
 * words for topical terms, so no two topics share a term by accident.
 */
export const BACKGROUND_WORDS: readonly string[] = (
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have ' +
  'an they you were her she there been one all we their has would when if so no more other into some what ' +
  'time only could new these two may first then do any like my now over such our man me even most made ' +
  'after also did many before must through back years where much your way well down should because each ' +
  'just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come ' +
  'since against go came right used take three states himself few house use during without again place ' +
  'around however home small found thought went say part once general high upon school every does got ' +
  'united left number course war until always away something fact though water less public put think ' +
  'almost hand enough far took head yet government system better set told nothing night end why called ' +
  'found study result results method methods effect effects analysis data model level levels increase ' +
  'observed shown show shows report reported using based role evidence associated compared among known'
)
  .split(' ')
  .filter((w, i, all) => all.indexOf(w) === i);

const ONSETS = [
  'b',
  'c',
  'd',
  'f',
  'g',
  'h',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'z',
  'br',
  'cl',
  'dr',
  'gr',
  'pl',
  'st',
  'tr',
  'th',
];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ae', 'io', 'ou'];
const CODAS = ['', '', '', 'n', 'r', 's', 'l', 'x', 'm', 'nd', 'st'];

/**
 * Makes `count` distinct invented words (2–3 syllables, e.g. `trolenx`, `vaimost`), none equal to a
 * background word or to anything in `taken` (which is updated).
 */
export function inventWords(random: Random, count: number, taken: Set<string>): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const syllables = random.next() < 0.6 ? 2 : 3;
    let word = '';
    for (let s = 0; s < syllables; s++) {
      word += random.pick(ONSETS) + random.pick(VOWELS);
      if (s === syllables - 1 || random.next() < 0.25) word += random.pick(CODAS);
    }
    if (taken.has(word) || word.length < 4) continue;
    taken.add(word);
    out.push(word);
  }
  return out;
}
