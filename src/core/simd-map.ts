/**
 * The affine-map kernel in WebAssembly SIMD (f32x4): out[r][j] = bias[j] + Σᵢ x[r][i]·wt[j][i], four rows
 * at a time so each weight vector loaded serves four rows: several times the throughput of the JavaScript
 * kernel (`adapter-map.ts`; BENCHMARKS.md, "Figures behind code choices"), with sums in f32 lanes that stay
 * within 3e-6 of the JavaScript kernel's f64 sums on unit-scale rows. The JavaScript kernel stays the fallback (input dimensions not a multiple of 4, or a
 * runtime without WebAssembly SIMD).
 *
 * The module is assembled here from its instructions (no build step, no binary blob in the repository):
 * `map(x, wt, bias, out, n, p, q)` with byte offsets into its exported memory, `p` a multiple of 4.
 */

// --- a tiny assembler for the one function -------------------------------------------------------
const uleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f32Add: 0x92,
} as const;
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];
const V128_LOAD = (offset: number): number[] => simd(0x00, 4, ...uleb(offset));
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const F32X4_LANE = (lane: number): number[] => simd(0x1f, lane);
const V128_ZERO = simd(0x0c, ...new Array(16).fill(0));

// Parameters 0..6: x, wt, bias, out, n, p, q. Locals follow.
const [X, WT, BIAS, OUT, N, P, Q] = [0, 1, 2, 3, 4, 5, 6];
const [R, J, I, PB, XR, WJ, LIMIT] = [7, 8, 9, 10, 11, 12, 13];
const ACC = [14, 15, 16, 17];
const W = 18;
// Locals of the four-row, two-column body: row pointers hoisted out of the inner loop, a second column.
const XK = [XR, 19, 20, 21];
const WJ2 = 22;
const ACC2 = [23, 24, 25, 26];
const W2 = 27;
const XV = 28;

const get = (l: number): number[] => [op.localGet, ...uleb(l)];
const set = (l: number): number[] => [op.localSet, ...uleb(l)];
const i32 = (n: number): number[] => [op.i32Const, ...sleb(n)];

/** Horizontal sum of accumulator `a` plus bias[j + col], stored at out[(r + k)·q + j + col]. */
function storeRow(k: number, a = ACC[k] as number, col = 0): number[] {
  const column = col === 0 ? get(J) : [...get(J), ...i32(col), op.i32Add];
  return [
    // address: out + ((r + k) * q + j) * 4
    ...get(OUT),
    ...get(R),
    ...i32(k),
    op.i32Add,
    ...get(Q),
    op.i32Mul,
    ...column,
    op.i32Add,
    ...i32(2),
    op.i32Shl,
    op.i32Add,
    ...get(a),
    ...F32X4_LANE(0),
    ...get(a),
    ...F32X4_LANE(1),
    op.f32Add,
    ...get(a),
    ...F32X4_LANE(2),
    ...get(a),
    ...F32X4_LANE(3),
    op.f32Add,
    op.f32Add,
    // + bias[j]
    ...get(BIAS),
    ...column,
    ...i32(2),
    op.i32Shl,
    op.i32Add,
    op.f32Load,
    2,
    0,
    op.f32Add,
    op.f32Store,
    2,
    0,
  ];
}

/** `block { loop { if (exit) break; body; continue } }`: the loop shape of every loop below. */
function whileNot(exit: number[], body: number[]): number[] {
  return [op.block, 0x40, op.loop, 0x40, ...exit, op.brIf, 1, ...body, op.br, 0, op.end, op.end];
}

/** `local += step` */
const advance = (local: number, step: number): number[] => [
  ...get(local),
  ...i32(step),
  op.i32Add,
  ...set(local),
];

/** `acc = acc + load(address) * w`, the loaded row left in `XV` when `keep`. */
function multiplyAdd(address: number[], w: number, acc: number, keep = false): number[] {
  return [
    ...address,
    ...V128_LOAD(0),
    ...(keep ? [op.localTee, ...uleb(XV)] : []),
    ...get(w),
    ...F32X4_MUL,
    ...get(acc),
    ...F32X4_ADD,
    ...set(acc),
  ];
}

/** The body over `rows` rows (4 or 1) starting at r: for each j, dot products over i in steps of 16 bytes. */
function rowsBody(rows: number, fromZero = true): number[] {
  const accs = ACC.slice(0, rows);
  const column = [
    // wj = wt + j * pb
    ...get(WT),
    ...get(J),
    ...get(PB),
    op.i32Mul,
    op.i32Add,
    ...set(WJ),
    ...accs.flatMap((a) => [...V128_ZERO, ...set(a)]),
    ...i32(0),
    ...set(I),
    ...whileNot(
      [...get(I), ...get(PB), op.i32GeU],
      [
        // w = load(wj + i); acc_k += load(xr + k*pb + i) * w
        ...get(WJ),
        ...get(I),
        op.i32Add,
        ...V128_LOAD(0),
        ...set(W),
        ...accs.flatMap((a, k) =>
          multiplyAdd(
            [
              ...get(XR),
              ...get(I),
              op.i32Add,
              ...(k === 0 ? [] : [...get(PB), ...i32(k), op.i32Mul, op.i32Add]),
            ],
            W,
            a,
          ),
        ),
        ...advance(I, 16),
      ],
    ),
    ...accs.flatMap((_, k) => storeRow(k)),
    ...advance(J, 1),
  ];
  return [
    ...(fromZero ? [...i32(0), ...set(J)] : []),
    ...whileNot([...get(J), ...get(Q), op.i32GeU], column),
  ];
}

/**
 * Four rows by two columns per inner step (the row pointers hoisted): each row vector loaded serves two
 * weight columns and each weight vector four rows — 8 multiply-adds per 6 loads, against 4 per 5 in
 * `rowsBody(4)` — then `rowsBody(4)`'s one-column loop for an odd last column.
 */
function rowsBody4x2(): number[] {
  const columns = [
    // wj = wt + j * pb; wj2 = wj + pb
    ...get(WT),
    ...get(J),
    ...get(PB),
    op.i32Mul,
    op.i32Add,
    op.localTee,
    ...uleb(WJ),
    ...get(PB),
    op.i32Add,
    ...set(WJ2),
    ...[...ACC, ...ACC2].flatMap((a) => [...V128_ZERO, ...set(a)]),
    ...i32(0),
    ...set(I),
    ...whileNot(
      [...get(I), ...get(PB), op.i32GeU],
      [
        ...[WJ, WJ2].flatMap((wj, c) => [
          ...get(wj),
          ...get(I),
          op.i32Add,
          ...V128_LOAD(0),
          ...set(c === 0 ? W : W2),
        ]),
        ...[0, 1, 2, 3].flatMap((k) => [
          ...multiplyAdd([...get(XK[k] as number), ...get(I), op.i32Add], W, ACC[k] as number, true),
          ...get(XV),
          ...get(W2),
          ...F32X4_MUL,
          ...get(ACC2[k] as number),
          ...F32X4_ADD,
          ...set(ACC2[k] as number),
        ]),
        ...advance(I, 16),
      ],
    ),
    ...[0, 1, 2, 3].flatMap((k) => storeRow(k)),
    ...[0, 1, 2, 3].flatMap((k) => storeRow(k, ACC2[k] as number, 1)),
    ...advance(J, 2),
  ];
  return [
    ...[1, 2, 3].flatMap((k) => [
      ...get(XR),
      ...get(PB),
      ...i32(k),
      op.i32Mul,
      op.i32Add,
      ...set(XK[k] as number),
    ]),
    ...i32(0),
    ...set(J),
    // while (j + 2 <= q)
    ...whileNot([...get(J), ...i32(2), op.i32Add, ...get(Q), 0x4b /* i32.gt_u */], columns),
    // an odd last column: the one-column body from j
    ...rowsBody(4, false),
  ];
}

/** for (r = start; r + step <= limit; r += step) { xr = x + r*pb; rowsBody(step) } */
function rowLoop(step: number, limitExpr: number[]): number[] {
  return [
    ...limitExpr,
    ...set(LIMIT),
    // r + step > limit → done
    ...whileNot(
      [...get(R), ...i32(step), op.i32Add, ...get(LIMIT), 0x4b /* i32.gt_u */],
      [
        ...get(X),
        ...get(R),
        ...get(PB),
        op.i32Mul,
        op.i32Add,
        ...set(XR),
        ...(step === 4 ? rowsBody4x2() : rowsBody(step)),
        ...advance(R, step),
      ],
    ),
  ];
}

function moduleBytes(): Uint8Array {
  const body = [
    // pb = p * 4; r = 0
    ...get(P),
    ...i32(2),
    op.i32Shl,
    ...set(PB),
    ...i32(0),
    ...set(R),
    ...rowLoop(4, get(N)),
    ...rowLoop(1, get(N)),
    op.end,
  ];
  const locals = vec([
    [...uleb(7), I32],
    [...uleb(5), V128],
    [...uleb(4), I32],
    [...uleb(6), V128],
  ]);
  const code = [...locals, ...body];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(3, vec([[0x00]])),
    ...section(5, vec([[0x00, 0x01]])), // memory: min 1 page, growable
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, 0x00],
        [...name('map'), 0x00, 0x00],
      ]),
    ),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ];
  return Uint8Array.from(bytes);
}

/** The few WebAssembly JS API members used here (the project's `lib` has no DOM, and @types/node does not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (module: WasmModule) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Kernel {
  readonly memory: WasmMemory;
  readonly map: (x: number, wt: number, bias: number, out: number, n: number, p: number, q: number) => void;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null when this runtime has no WebAssembly SIMD. */
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled ?? null;
}

const PAGE = 65_536;
/** Rows mapped per kernel call (bounds the memory a mapper keeps). */
const CHUNK = 1_024;

/**
 * A map loaded into one WebAssembly instance (its weights copied once); `map` then streams rows through
 * it in chunks. Not shareable between threads; cheap to create.
 */
export class SimdMapper {
  readonly #kernel: Kernel;
  readonly #p: number;
  readonly #q: number;
  readonly #xAt: number;
  readonly #outAt: number;

  private constructor(kernel: Kernel, transposed: Float32Array, bias: Float32Array, p: number, q: number) {
    this.#kernel = kernel;
    this.#p = p;
    this.#q = q;
    const weightsBytes = transposed.byteLength + bias.byteLength;
    const need = weightsBytes + CHUNK * (p + q) * 4;
    const pages = Math.ceil(need / PAGE);
    const have = kernel.memory.buffer.byteLength / PAGE;
    if (pages > have) kernel.memory.grow(pages - have);
    const heap = new Float32Array(kernel.memory.buffer);
    heap.set(transposed, 0);
    heap.set(bias, transposed.length);
    this.#xAt = weightsBytes;
    this.#outAt = weightsBytes + CHUNK * p * 4;
  }

  /** A mapper for weights `transposed` (q × p) and `bias`, or null when SIMD is unavailable or p % 4 ≠ 0. */
  static create(transposed: Float32Array, bias: Float32Array, p: number, q: number): SimdMapper | null {
    if (p % 4 !== 0) return null;
    const module = kernelModule();
    if (!module) return null;
    const instance = new (wasm as WasmApi).Instance(module);
    const kernel = instance.exports as unknown as Kernel;
    return new SimdMapper(kernel, transposed, bias, p, q);
  }

  /** Maps `count` rows (count × p) into `out` (count × q), without normalising. */
  map(rows: Float32Array, count: number, out: Float32Array): void {
    const p = this.#p;
    const q = this.#q;
    const buffer = this.#kernel.memory.buffer;
    const x = new Float32Array(buffer, this.#xAt, CHUNK * p);
    const y = new Float32Array(buffer, this.#outAt, CHUNK * q);
    for (let start = 0; start < count; start += CHUNK) {
      const n = Math.min(CHUNK, count - start);
      x.set(rows.subarray(start * p, (start + n) * p));
      this.#kernel.map(this.#xAt, 0, p * q * 4, this.#outAt, n, p, q);
      out.set(y.subarray(0, n * q), start * q);
    }
  }
}

export { moduleBytes as simdModuleBytes };

/** Whether this runtime accepts the kernel's bytes (WebAssembly with SIMD). */
export function simdAvailable(): boolean {
  return kernelModule() !== null;
}
