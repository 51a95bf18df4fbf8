import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReembedError } from './errors.js';
import { normalizeInPlace, UNIT_TOLERANCE, validateVector } from './vector.js';

/** The error code `validateVector` throws, or null when it accepts. */
function outcome(vector: ArrayLike<number>, dimension: number): string | null {
  try {
    validateVector(vector, dimension, 'test');
    return null;
  } catch (error) {
    if (!isReembedError(error)) throw error;
    return error.code;
  }
}

const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

describe('validateVector', () => {
  it('accepts a vector exactly when every component is finite (float32 and double arrays)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), special, fc.constantFrom(1e200, -1e300, 3.4e38)), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.boolean(),
        (values, asFloat32) => {
          const vector = asFloat32 ? Float32Array.from(values) : values;
          const finite = Array.from(vector).every((v) => Number.isFinite(v));
          expect(outcome(vector, vector.length)).toBe(finite ? null : 'INVALID_VECTOR');
        },
      ),
    );
  });

  it('refuses components that are not numbers in a plain array (null, strings, undefined)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.constantFrom(null, '0.5', '2', undefined, {}, true),
        (values, at, bad) => {
          const vector: unknown[] = [...values];
          vector[at % vector.length] = bad;
          expect(outcome(vector as number[], vector.length)).toBe('INVALID_VECTOR');
        },
      ),
    );
  });

  it('names the first non-finite component, even where huge finite values overflow a sum of squares', () => {
    const vector = [1e300, 1e300, 2, Number.NaN, Number.POSITIVE_INFINITY];
    try {
      validateVector(vector, 5, 'batch item 3');
      expect.unreachable();
    } catch (error) {
      if (!isReembedError(error)) throw error;
      expect(error.code).toBe('INVALID_VECTOR');
      expect(error.details).toMatchObject({ index: 3, value: 'NaN', where: 'batch item 3' });
    }
    expect(outcome([1e300, -1e300, 1e308], 3)).toBeNull();
    expect(outcome(new Float32Array(3), 4)).toBe('DIMENSION_MISMATCH');
  });
});

describe('normalizeInPlace', () => {
  const vectors = fc
    .array(fc.float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }), {
      minLength: 1,
      maxLength: 1536,
    })
    .map((values) => Float32Array.from(values));
  const squaredNorm = (v: Float32Array): number => v.reduce((s, x) => s + x * x, 0);

  it('makes every non-zero vector unit to float32 precision and leaves a zero vector zero', () => {
    fc.assert(
      fc.property(vectors, (v) => {
        const once = normalizeInPlace(Float32Array.from(v));
        if (squaredNorm(v) === 0) expect(Array.from(once)).toEqual(Array.from(v));
        else expect(Math.abs(squaredNorm(once) - 1)).toBeLessThanOrEqual(UNIT_TOLERANCE);
      }),
    );
  });

  it('still rescales a vector just outside the tolerance', () => {
    const v = normalizeInPlace(Float32Array.from({ length: 384 }, (_, i) => Math.sin(i + 1)));
    const scale = Math.sqrt(1 + 8 * UNIT_TOLERANCE);
    const off = v.map((x) => x * scale);
    expect(Math.abs(squaredNorm(off) - 1)).toBeGreaterThan(UNIT_TOLERANCE);
    const fixed = normalizeInPlace(Float32Array.from(off));
    expect(Buffer.from(fixed.buffer).equals(Buffer.from(off.buffer))).toBe(false);
    expect(Math.abs(squaredNorm(fixed) - 1)).toBeLessThanOrEqual(UNIT_TOLERANCE);
  });
});
