import { describe, expect, it } from 'vitest';
import { isReembedError, ReembedError } from './errors.js';

describe('ReembedError across copies of its module', () => {
  /** What another copy of core/errors.ts (the CLI's start-up bundle, a second install) builds. */
  class OtherCopy extends Error {
    readonly code = 'NOT_FOUND';
    get [Symbol.for('reembed.ReembedError')](): true {
      return true;
    }
  }

  it('instanceof and isReembedError hold for an error of any copy, and only for those', () => {
    expect(new ReembedError('NOT_FOUND', 'x')).toBeInstanceOf(ReembedError);
    expect(new OtherCopy() instanceof ReembedError).toBe(true);
    expect(isReembedError(new OtherCopy(), 'NOT_FOUND')).toBe(true);
    expect(isReembedError(new OtherCopy(), 'CONFLICT')).toBe(false);
    for (const other of [new Error('x'), { code: 'NOT_FOUND' }, null, undefined, 'NOT_FOUND', 4])
      expect(other instanceof ReembedError, String(other)).toBe(false);
  });
});
