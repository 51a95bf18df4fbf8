import type { Space, SpaceSummary } from './space.js';

/** Lifecycle of a namespace. `serving` is the one an alias points at; storage enforces at most one per alias. */
export const NAMESPACE_STATES = ['building', 'active', 'serving', 'retiring', 'retired'] as const;
export type NamespaceState = (typeof NAMESPACE_STATES)[number];

/** Active namespaces receive every source write (dual-write). Retired ones hold no vectors. */
export const WRITABLE_STATES: readonly NamespaceState[] = ['building', 'active', 'serving', 'retiring'];

export interface Namespace {
  readonly kind: 'namespace';
  /** `collection@space`, e.g. `docs@hashing-v1`. */
  readonly name: string;
  readonly collection: string;
  readonly space: Space;
  readonly state: NamespaceState;
  readonly createdAt: string;
  /** The namespace this one was migrated from, if any. */
  readonly createdFrom: string | null;
  readonly retiredAt: string | null;
  /** Free-form lifecycle facts: backfill checkpoint summary, retention window, last eval. */
  readonly info: Readonly<Record<string, unknown>>;
}

export function namespaceName(collection: string, space: Pick<Space, 'name'>): string {
  return `${collection}@${space.name}`;
}

/** The inspectable manifest of a namespace: what `reembed status` shows and `--json` exports. */
export interface NamespaceManifest {
  readonly kind: 'manifest';
  readonly namespace: string;
  readonly collection: string;
  readonly state: NamespaceState;
  readonly space: SpaceSummary;
  readonly records: number;
  readonly sources: number;
  readonly fingerprints: Readonly<Record<string, number>>;
  /** Live source documents of the collection that the namespace holds at their newest version. */
  readonly coverage: {
    readonly live: number;
    readonly current: number;
    readonly stale: number;
    readonly ratio: number;
  };
  readonly aliases: readonly string[];
  readonly createdAt: string;
  readonly createdFrom: string | null;
  readonly retiredAt: string | null;
  readonly info: Readonly<Record<string, unknown>>;
}
