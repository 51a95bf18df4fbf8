import { canonicalJson } from './canonical.js';
import { ReembedError } from './errors.js';
import type { Space } from './space.js';

/** One field two definitions of a space disagree on, as a dotted path (`spec.dimension`, `runtime.options.baseUrl`). */
export interface SpaceFieldDifference {
  readonly field: string;
  readonly held: unknown;
  readonly incoming: unknown;
}

/**
 * The fields (spec and runtime, at any depth) where two definitions of a space differ; empty when they
 * are identical. Arrays compare whole, so a changed prefix list is one difference.
 */
export function spaceDifferences(
  held: Pick<Space, 'spec' | 'runtime'>,
  incoming: Pick<Space, 'spec' | 'runtime'>,
): SpaceFieldDifference[] {
  const out: SpaceFieldDifference[] = [];
  diff('spec', held.spec, incoming.spec, out);
  diff('runtime', held.runtime, incoming.runtime, out);
  return out;
}

function diff(path: string, a: unknown, b: unknown, out: SpaceFieldDifference[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) diff(`${path}.${key}`, a[key], b[key], out);
    return;
  }
  if (canonicalJson(a ?? null) !== canonicalJson(b ?? null))
    out.push({ field: path, held: a ?? null, incoming: b ?? null });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `CONFLICT` for a second, different definition under a registered space name, naming every differing
 * field with both values. Spaces are immutable: a changed model or pipeline is a new space with a new name.
 */
export function spaceConflict(
  name: string,
  held: Pick<Space, 'fingerprint' | 'spec' | 'runtime'>,
  incoming: Pick<Space, 'fingerprint' | 'spec' | 'runtime'>,
): ReembedError {
  const differences = spaceDifferences(held, incoming);
  const shown = differences
    .slice(0, 6)
    .map((d) => `${d.field} ${show(d.held)} → ${show(d.incoming)}`)
    .join('; ');
  const more = differences.length > 6 ? ` (and ${differences.length - 6} more)` : '';
  const geometry = held.fingerprint !== incoming.fingerprint;
  return new ReembedError(
    'CONFLICT',
    `Space "${name}" is already registered with another definition: ${shown}${more}. ` +
      (geometry
        ? `A changed model or pipeline is a new space (${incoming.fingerprint}, the registered one is ${held.fingerprint}): register it under a new name (e.g. "${name}-2").`
        : 'Only operational settings differ, but registered spaces are immutable: register the new settings under a new name.'),
    {
      details: {
        space: name,
        existing: held.fingerprint,
        incoming: incoming.fingerprint,
        fields: differences.map((d) => d.field),
        differences,
      },
    },
  );
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
