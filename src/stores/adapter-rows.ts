import {
  type Adapter,
  type AdapterFitInfo,
  type AdapterSpec,
  assertMapOf,
  defineAdapter,
  type LoadedAdapter,
  mapFromBytes,
} from '../core/adapter.js';
import { ADAPTER_STATES, type AdapterEvaluation, type AdapterState } from '../core/adapter-gate.js';
import { sha256Hex } from '../core/canonical.js';
import { ReembedError } from '../core/errors.js';
import type { AdapterRecord, SaveAdapterInput } from '../ports/adapters.js';

/** One adapter row, as both SQL backends store it (JSON columns as text in SQLite, jsonb in PostgreSQL). */
export interface AdapterRow {
  readonly fingerprint: string;
  readonly name: string;
  readonly collection: string;
  readonly direction: string;
  readonly source_fp: string;
  readonly target_fp: string;
  readonly spec: AdapterSpec;
  readonly fit: AdapterFitInfo;
  readonly state: AdapterState;
  readonly created_at: string;
  readonly latest: AdapterEvaluation | null;
}

export function adapterOfRow(row: AdapterRow): Adapter {
  const adapter = defineAdapter(row.name, row.spec, row.fit, row.created_at);
  if (adapter.fingerprint !== row.fingerprint) {
    throw new ReembedError(
      'INTEGRITY_FAILED',
      `Adapter ${row.name}: its stored spec hashes to ${adapter.fingerprint}, not ${row.fingerprint}; the row was changed. Refit the adapter.`,
      { details: { adapter: row.name, stored: row.fingerprint, computed: adapter.fingerprint } },
    );
  }
  return adapter;
}

export function recordOfRow(row: AdapterRow): AdapterRecord {
  if (!(ADAPTER_STATES as readonly string[]).includes(row.state)) {
    throw new ReembedError('INTEGRITY_FAILED', `Adapter ${row.name} has an unknown state "${row.state}".`, {
      details: { adapter: row.name, state: row.state },
    });
  }
  return Object.freeze({ adapter: adapterOfRow(row), state: row.state, latest: row.latest ?? null });
}

export function loadedOfRow(row: AdapterRow, weights: Uint8Array): LoadedAdapter {
  const adapter = adapterOfRow(row);
  const map = mapFromBytes(weights);
  assertMapOf(adapter, map);
  return { adapter, map };
}

/** Refuses weights that are not the adapter's (checked before anything is stored). */
export function checkSave(input: SaveAdapterInput): void {
  if (sha256Hex(input.weights) !== input.adapter.spec.weightsSha256) {
    throw new ReembedError(
      'INTEGRITY_FAILED',
      `The weights given for adapter ${input.adapter.name} are not the ones its spec records (sha256 differs).`,
      { details: { adapter: input.adapter.name } },
    );
  }
  assertMapOf(input.adapter, mapFromBytes(input.weights));
}

export function unknownAdapter(ref: string, known: readonly string[]): ReembedError {
  return new ReembedError(
    'NOT_FOUND',
    `No adapter "${ref}". Known adapters: ${known.length > 0 ? known.join(', ') : '(none)'}. Fit one with: reembed adapter fit <collection> --from <space> --to <space>.`,
    { details: { adapter: ref, known: [...known] } },
  );
}

export function adapterTaken(name: string, held: string, incoming: string): ReembedError {
  return new ReembedError(
    'ALREADY_EXISTS',
    `Adapter name "${name}" is taken by ${held}; this adapter is ${incoming}. Choose another name.`,
    { details: { name, held, incoming } },
  );
}

export function cannotRevoke(name: string, state: AdapterState): ReembedError {
  return new ReembedError(
    'INVALID_STATE',
    `Adapter ${name} is ${state}; only a passed adapter can be revoked.`,
    {
      details: { adapter: name, state },
    },
  );
}

/** Audit details of a saved adapter. */
export function saveAuditDetails(adapter: Adapter): Record<string, unknown> {
  return {
    fingerprint: adapter.fingerprint,
    collection: adapter.spec.collection,
    direction: adapter.spec.direction,
    source: adapter.spec.source.name,
    target: adapter.spec.target.name,
    method: adapter.spec.method,
    params: adapter.spec.params,
    pairs: adapter.spec.training.documents + adapter.spec.training.probes,
  };
}
