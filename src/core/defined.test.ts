import { describe, expect, it } from 'vitest';
import { defined } from './defined.js';

describe('defined', () => {
  it('drops undefined members only, so spread defaults under it survive', () => {
    const fields = defined({ a: 1, b: undefined, c: null, d: false, e: '' });
    expect(fields).toEqual({ a: 1, c: null, d: false, e: '' });
    expect('b' in fields).toBe(false);
    const defaults = { b: 5 };
    expect({ ...defaults, ...defined({ b: undefined as number | undefined }) }).toEqual({ b: 5 });
  });
});
