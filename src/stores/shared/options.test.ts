import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseOptions } from './options.js';

describe('parseOptions', () => {
  const schema = z.object({ uri: z.string().min(1), every: z.number().int().min(1).default(64) }).strict();

  it('returns the options with their defaults', () => {
    expect(parseOptions('test options', schema, { uri: 'x' })).toEqual({ uri: 'x', every: 64 });
  });

  it('refuses with INVALID_SPEC naming every bad field', () => {
    let caught: unknown;
    try {
      parseOptions('test options', schema, { uri: '', every: 0, extra: 1 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'INVALID_SPEC' });
    const { message, details } = caught as { message: string; details: { issues: string[] } };
    expect(message).toMatch(/^Invalid test options: uri: .*; every: .*; \(root\): Unrecognized key/);
    expect(details.issues).toHaveLength(3);
  });
});
