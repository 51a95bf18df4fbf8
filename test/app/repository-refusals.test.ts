import { describe, expect, it } from 'vitest';
import { requireApiKeys } from '../../src/app/api-keys.js';
import { requireGoldenSets } from '../../src/app/golden-sets.js';
import { requireRepositories } from '../../src/app/migrate-context.js';
import { requireProbes } from '../../src/app/probes.js';
import { requireAdapters } from '../../src/bridge/fit.js';
import { requireVectors } from '../../src/bridge/pairs.js';
import { ReembedError } from '../../src/core/errors.js';
import { assertGoldenName, unknownGoldenSet } from '../../src/core/golden.js';
import { assertProbeName, unknownProbeSet } from '../../src/core/probe.js';
import type { Backend } from '../../src/ports/backend.js';

/** What a backend without a repository answers, and how set names are refused: one wording each. */
const refusal = (f: () => unknown): { code: string; message: string; details: unknown } => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ReembedError);
    const e = error as ReembedError;
    return { code: e.code, message: e.message, details: e.details };
  }
  throw new Error('expected a refusal');
};

describe('a backend without an optional repository', () => {
  // Only `kind` is read before the refusal: a backend that declares none of the optional repositories.
  const bare = { kind: 'bare' } as Backend;

  it('refuses with UNSUPPORTED naming the backend and what to do instead', () => {
    const cases: [() => unknown, string][] = [
      [() => requireApiKeys(bare), 'does not store API keys; serve from the SQLite or PostgreSQL backend.'],
      [() => requireGoldenSets(bare), 'does not store golden sets; pass the golden set as a path instead.'],
      [() => requireProbes(bare), 'does not store probe sets; build and evaluate one in memory instead.'],
      [() => requireAdapters(bare), 'does not store adapters. Use the SQLite or PostgreSQL backend.'],
      [
        () => requireVectors(bare),
        'cannot read stored vectors back, which adapters need. Use the SQLite or PostgreSQL backend.',
      ],
      [
        () => requireRepositories(bare),
        'does not provide migration and job repositories yet; use the embedded SQLite backend.',
      ],
    ];
    for (const [call, lacking] of cases) {
      expect(refusal(call)).toEqual({
        code: 'UNSUPPORTED',
        message: `The bare backend ${lacking}`,
        details: { backend: 'bare' },
      });
    }
  });

  it('hands over the repository it has', () => {
    const probes = {} as NonNullable<Backend['probes']>;
    expect(requireProbes({ kind: 'x', probes } as Backend)).toBe(probes);
  });
});

describe('stored set names', () => {
  it('are catalog keys; a bad one is INVALID_INPUT with an example', () => {
    expect(() => assertGoldenName('scifact-test.v2')).not.toThrow();
    expect(refusal(() => assertGoldenName('no spaces'))).toEqual({
      code: 'INVALID_INPUT',
      message:
        'Golden set name "no spaces" is invalid: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. scifact-test).',
      details: { name: 'no spaces' },
    });
    expect(refusal(() => assertProbeName('-x')).message).toBe(
      'Probe set name "-x" is invalid: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. docs-probe).',
    );
    expect(refusal(() => assertProbeName('a'.repeat(129))).code).toBe('INVALID_INPUT');
  });

  it('that nothing is stored under list what is', () => {
    expect(unknownGoldenSet('x', []).message).toBe(
      'No stored golden set "x". Stored sets: (none). Save one with: reembed eval --golden <dir|file.jsonl> --save-as <name>.',
    );
    const probe = unknownProbeSet('x', ['a', 'b']);
    expect([probe.code, probe.message, probe.details]).toEqual([
      'NOT_FOUND',
      'No stored probe set "x". Stored probe sets: a, b. Build one with: reembed probe create <collection> --name <name>.',
      { name: 'x', known: ['a', 'b'] },
    ]);
  });
});
