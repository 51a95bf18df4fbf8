import type { Namespace } from '../core/namespace.js';
import type { Backend } from '../ports/backend.js';

/**
 * Quality recorded for a namespace on an evaluation set, kept in its manifest (`info.qualityBaselines`,
 * keyed by the set's digest) so that a bridge can still be compared with clean old quality after the old
 * model is gone: measure the old namespace while its provider answers, and the record stands in later.
 */
export interface QualityBaseline {
  readonly set: string;
  readonly at: string;
  readonly metrics: Readonly<Record<string, number>>;
  /** Per-query values of the gate's metric (query id → value), for paired intervals. */
  readonly perQuery: Readonly<Record<string, number>>;
  readonly metric: string;
}

const KEY = 'qualityBaselines';

export function readBaseline(ns: Namespace, digest: string): QualityBaseline | null {
  const all = ns.info[KEY] as Record<string, QualityBaseline> | undefined;
  return all?.[digest] ?? null;
}

export async function recordBaseline(
  backend: Backend,
  namespace: string,
  digest: string,
  baseline: QualityBaseline,
): Promise<void> {
  const ns = await backend.catalog.getNamespace(namespace);
  const all = {
    ...((ns.info[KEY] as Record<string, QualityBaseline> | undefined) ?? {}),
    [digest]: baseline,
  };
  await backend.catalog.updateNamespaceInfo(namespace, { [KEY]: all });
}
