import { defineSpace, type Space } from '../../src/core/space.js';
import type { NamespaceDescriptor } from '../../src/ports/vector-store.js';

// No imports from src/testing here: the crash child runs outside vitest, and those fixtures use `expect`.
const space = (name: string): Space =>
  defineSpace(name, {
    provider: 'conformance',
    model: name,
    dimension: 24,
    metric: 'cosine',
    normalization: 'l2',
  });

/** The namespace of the ANN crash test: 24-d cosine vectors around 30 seeded centres. */
export const annSpace = space('ann-crash');
export const annOther = space('ann-crash-other');
export const annNamespace: NamespaceDescriptor = {
  name: 'docs@ann-crash',
  fingerprint: annSpace.fingerprint,
  spaceName: annSpace.name,
  dimension: 24,
  metric: 'cosine',
};

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const centres = (() => {
  const random = mulberry(99);
  return Array.from({ length: 30 }, () => Float32Array.from({ length: 24 }, () => random() * 2 - 1));
})();

/** A clustered vector determined by `seed`. */
export function vectorOf(seed: number): Float32Array {
  const random = mulberry(seed + 1);
  const c = centres[Math.floor(random() * centres.length)] as Float32Array;
  return Float32Array.from(c, (x) => x + (random() * 2 - 1) * 0.3);
}
