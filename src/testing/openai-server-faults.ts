/**
 * Faults and response bodies of the OpenAI-compatible test server (`openai-server.ts`). The base64
 * encoder here is written independently of the client's decoder on purpose, so a byte-order bug in
 * one cannot be cancelled out by the same bug in the other.
 */

/** One injected misbehaviour, applied to one embeddings request (after auth and request validation). */
export type Fault =
  /** An error status with an OpenAI-style error body; `headers` e.g. `{ 'retry-after': '2' }` or `{ 'retry-after-ms': '150' }`. */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly message?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Answers normally, but only after `ms` (use more than the client's timeout for a timeout). */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Destroys the socket without answering (a network error for the client). */
  | { readonly kind: 'reset' }
  /** HTTP 200 with a truncated, unparseable JSON body. */
  | { readonly kind: 'malformed' }
  /** Every vector has `dimension + delta` components (default delta 1; negative drops components). */
  | { readonly kind: 'wrong-dimension'; readonly delta?: number }
  /**
   * Component 0 of the first vector is non-finite. JSON cannot carry NaN, so in float mode the server sends
   * `null` (`as: 'null'`, default), `1e999` (`'overflow'`, which JSON.parse reads as Infinity), or a bare
   * `NaN` token (`'nan-literal'`, what Python's json.dumps emits, making the body invalid JSON). In base64
   * mode the float32 bits are a real NaN (Infinity for `'overflow'`).
   */
  | { readonly kind: 'non-finite'; readonly as?: 'null' | 'overflow' | 'nan-literal' }
  /** Drops the last item of `data`. */
  | { readonly kind: 'wrong-count' }
  /** Gives the last item the index of the first. */
  | { readonly kind: 'duplicate-index' }
  /** Returns `data` in a shuffled order (never the input order when there are 2+ items); indices stay correct. */
  | { readonly kind: 'shuffle' };

export interface FaultPlan {
  /** Consumed one per embeddings request, in order; `null` answers normally. */
  readonly script?: readonly (Fault | null)[];
  /** After the script: each request gets a fault with this probability, drawn from `faults` by a seeded PRNG. */
  readonly rate?: { readonly probability: number; readonly faults: readonly Fault[]; readonly seed?: number };
}

/** Like OpenAI's `dimensions`: keep the first n components, then L2-normalise again. */
export function shorten(vector: number[], dimensions: number | null): number[] {
  if (dimensions === null) return vector;
  if (dimensions > vector.length) {
    throw new Error(`'dimensions' ${dimensions} exceeds the model's ${vector.length}.`);
  }
  const head = vector.slice(0, dimensions);
  const norm = Math.hypot(...head);
  return norm > 0 ? head.map((v) => v / norm) : head;
}

const NON_FINITE = '__reembed_non_finite__';

export function buildBody(
  vectors: number[][],
  inputs: readonly string[],
  model: string,
  base64: boolean,
  fault: Fault | null,
  random: () => number,
): string {
  if (fault?.kind === 'wrong-dimension') {
    const delta = fault.delta ?? 1;
    vectors = vectors.map((v) =>
      delta >= 0 ? [...v, ...new Array<number>(delta).fill(0)] : v.slice(0, delta),
    );
  }
  let items: { object: string; index: number; embedding: unknown }[] = vectors.map((v, index) => ({
    object: 'embedding',
    index,
    embedding: base64 ? encodeFloat32(v) : v,
  }));
  const first = items[0];
  if (fault?.kind === 'non-finite' && first && vectors[0]) {
    const bad = [...vectors[0]];
    bad[0] = fault.as === 'overflow' ? Number.POSITIVE_INFINITY : Number.NaN;
    first.embedding = base64 ? encodeFloat32(bad) : [NON_FINITE, ...(vectors[0] ?? []).slice(1)];
  }
  if (fault?.kind === 'wrong-count') items = items.slice(0, -1);
  if (fault?.kind === 'duplicate-index' && items.length > 1) items[items.length - 1]!.index = 0;
  if (fault?.kind === 'shuffle') items = shuffled(items, random);
  const tokens = inputs.reduce((sum, t) => sum + (t.match(/\S+/g)?.length ?? 0), 0);
  const json = JSON.stringify({
    object: 'list',
    data: items,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
  if (fault?.kind === 'malformed') return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
  const literal =
    fault?.kind === 'non-finite'
      ? { null: 'null', overflow: '1e999', 'nan-literal': 'NaN' }[fault.as ?? 'null']
      : '';
  return json.replace(`"${NON_FINITE}"`, literal);
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out.every((item, i) => item === items[i]) ? out.reverse() : out;
}

function encodeFloat32(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buffer.writeFloatLE(vector[i] as number, i * 4);
  return buffer.toString('base64');
}
