import { ReembedError } from '../../core/errors.js';
import { NAMESPACE_STATES } from '../../core/namespace.js';

/** Input checks and the actionable errors of the SQL catalog (stores/sql/catalog.ts). */
export function checkActor(actor: string): void {
  if (typeof actor !== 'string' || actor.trim().length === 0) {
    throw invalid('actor', 'must be a non-empty string (who made the change, for the audit log)');
  }
}

export function checkState(state: string): void {
  if (!(NAMESPACE_STATES as readonly string[]).includes(state)) {
    throw invalid('state', `"${state}" is not one of ${NAMESPACE_STATES.join(', ')}`);
  }
}

export function invalid(field: string, problem: string): ReembedError {
  return new ReembedError('INVALID_INPUT', `${field} ${problem}.`, { details: { field } });
}

export function notFound(what: string, name: string, hint: string): ReembedError {
  return new ReembedError('NOT_FOUND', `Unknown ${what} "${name}": ${hint}.`, { details: { [what]: name } });
}

export function alreadyExists(what: string, name: string): ReembedError {
  return new ReembedError('ALREADY_EXISTS', `${what} "${name}" already exists.`, { details: { name } });
}

export function unknownSpace(key: string, known: readonly string[]): ReembedError {
  const list = known.length ? known.join(', ') : '(none)';
  return new ReembedError(
    'NOT_FOUND',
    `Unknown space "${key}". Known spaces: ${list}. Register it first (reembed space add).`,
    { details: { space: key, known } },
  );
}

export function forgedSpace(name: string, claimed: string, computed: string): ReembedError {
  return new ReembedError(
    'INVALID_SPEC',
    `Space "${name}" carries fingerprint ${claimed} but its spec hashes to ${computed}. Build spaces with defineSpace() and do not edit them.`,
    { details: { claimed, computed } },
  );
}

/** `CONFLICT` naming the namespaces (with their states) that keep a space from being removed. */
export function spaceInUse(name: string, users: readonly { name: string; state: string }[]): ReembedError {
  const live = users.filter((u) => u.state !== 'retired');
  const listed = users.map((u) => `${u.name} (${u.state})`).join(', ');
  return new ReembedError(
    'CONFLICT',
    `Space "${name}" is used by ${users.length} namespace(s): ${listed}. ` +
      (live.length > 0
        ? 'Migrate their collections to another space (reembed migrate start) or delete the collections (reembed collection delete) first.'
        : 'Retired namespaces keep their space for their history; delete their collection (reembed collection delete) to remove it.'),
    { details: { space: name, namespaces: users.map((u) => ({ name: u.name, state: u.state })) } },
  );
}

export function spaceRegisteredAs(name: string, fingerprint: string): ReembedError {
  return new ReembedError(
    'ALREADY_EXISTS',
    `The same space is already registered as "${name}" (${fingerprint}); use that name.`,
    { details: { name, fingerprint } },
  );
}

export function aliasConflict(alias: string, expected: number, actual: number): ReembedError {
  return new ReembedError(
    'CONFLICT',
    `Alias "${alias}" is at version ${actual}, not ${expected}: another writer changed it. Re-read the alias and retry.`,
    { details: { alias, expected, actual } },
  );
}
