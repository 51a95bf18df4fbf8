import { describe, expect, it } from 'vitest';
import { ReembedError } from '../../core/errors.js';
import { compileFilter } from './filter.js';

const match = (filter: Parameters<typeof compileFilter>[0], tenant: string | null, metadata: object) =>
  compileFilter(filter)?.matches(tenant, () => metadata as Record<string, unknown>) ?? true;

describe('compileFilter', () => {
  it('returns null when nothing is constrained', () => {
    expect(compileFilter(undefined)).toBeNull();
    expect(compileFilter({})).toBeNull();
    expect(compileFilter({ metadata: {} })).toBeNull();
  });

  it('matches tenant, equality and $in with strict equality, ANDed', () => {
    expect(match({ tenant: 'a' }, 'a', {})).toBe(true);
    expect(match({ tenant: 'a' }, null, {})).toBe(false);
    expect(match({ metadata: { year: 2020 } }, null, { year: '2020' })).toBe(false);
    expect(match({ metadata: { year: { $in: [2020, 2021] } } }, null, { year: 2021 })).toBe(true);
    expect(match({ metadata: { lang: 'en', ok: true } }, null, { lang: 'en', ok: false })).toBe(false);
    expect(match({ metadata: { lang: 'en' } }, null, {})).toBe(false);
    expect(match({ metadata: { toString: 'x' } }, null, {})).toBe(false);
  });

  it('refuses malformed conditions with INVALID_INPUT naming the key', () => {
    const bad = [
      { metadata: { a: { $gt: 1 } } },
      { metadata: { a: { $in: [{}] } } },
      { tenant: 3 },
      { metadata: { a: null } },
    ];
    for (const filter of bad) {
      try {
        compileFilter(filter as never);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ReembedError);
        expect((error as ReembedError).code).toBe('INVALID_INPUT');
      }
    }
  });
});
