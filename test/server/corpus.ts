/** Sentences over a made-up vocabulary of 3,000 words (seeded): distinctive enough for probe queries. */
export function corpus(n: number) {
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const syllables = [
    'ka',
    'lo',
    'mi',
    'ren',
    'ta',
    'vos',
    'qui',
    'der',
    'pha',
    'nel',
    'sor',
    'bu',
    'tek',
    'ly',
    'gan',
  ];
  const vocab = Array.from({ length: 3000 }, () =>
    Array.from(
      { length: 2 + Math.floor(rand() * 3) },
      () => syllables[Math.floor(rand() * syllables.length)],
    ).join(''),
  );
  const word = (): string => vocab[Math.floor(rand() ** 2 * vocab.length)] as string;
  const sentence = (): string => `${Array.from({ length: 9 + Math.floor(rand() * 8) }, word).join(' ')}.`;
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${String(i).padStart(4, '0')}`,
    text: `${sentence()} ${sentence()} ${sentence()}`,
  }));
}
