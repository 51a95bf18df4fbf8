import { ReembedError } from '../../core/errors.js';
import type { Routing } from '../../core/routing.js';

const FUSION_METHODS = new Set(['rrf', 'minmax', 'zscore', 'coverage-aware-rrf', 'coverage-aware-score']);

/**
 * Checks the shape of a routing before it is stored: a malformed routing in the alias row would break
 * every query of the alias, so it is refused at write time with the offending field named.
 */
export function checkRouting(alias: string, routing: Routing): void {
  const fail = (field: string, problem: string): never => {
    throw new ReembedError('INVALID_INPUT', `Alias "${alias}": routing.${field} ${problem}.`, {
      details: { alias, field },
    });
  };
  const r = routing as unknown as Record<string, unknown>;
  if (r === null || typeof r !== 'object') fail('kind', 'is missing: pass a routing object');
  const isName = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
  /** `primary` and `other` name two different namespaces. */
  const twoNamespaces = (other: 'shadow' | 'next'): void => {
    if (!isName(r.primary)) fail('primary', 'must name a namespace');
    if (!isName(r[other])) fail(other, 'must name a namespace');
    if (r.primary === r[other]) fail(other, 'must differ from primary');
  };
  const between = (field: 'sampleRate' | 'percent', max: number): void => {
    const v = r[field];
    if (typeof v !== 'number' || !(v >= 0 && v <= max)) fail(field, `must be a number between 0 and ${max}`);
  };
  switch (routing.kind) {
    case 'single':
      if (!isName(r.namespace)) fail('namespace', 'must name a namespace');
      return;
    case 'shadow':
      twoNamespaces('shadow');
      between('sampleRate', 1);
      return;
    case 'split':
      twoNamespaces('next');
      between('percent', 100);
      if (!Array.isArray(r.tenants) || !r.tenants.every((t) => typeof t === 'string')) {
        fail('tenants', 'must be an array of tenant names');
      }
      checkBridge(r.bridge, fail);
      return;
    case 'fused': {
      twoNamespaces('next');
      const fusion = r.fusion as { method?: unknown; rrfK?: unknown } | undefined;
      if (!fusion || !FUSION_METHODS.has(fusion.method as string)) {
        fail('fusion.method', `must be one of ${[...FUSION_METHODS].join(', ')}`);
      }
      if (fusion?.rrfK !== undefined && !(typeof fusion.rrfK === 'number' && fusion.rrfK > 0)) {
        fail('fusion.rrfK', 'must be a positive number');
      }
      checkBridge(r.bridge, fail);
      return;
    }
    default:
      fail('kind', 'must be one of single, shadow, split, fused');
  }
}

function checkBridge(bridge: unknown, fail: (field: string, problem: string) => never): void {
  if (bridge === undefined) return;
  const b = bridge as { adapter?: unknown; direction?: unknown } | null;
  if (b === null || typeof b !== 'object') fail('bridge', 'must be an object { adapter, direction }');
  if (typeof b?.adapter !== 'string' || !/^ad_[0-9a-f]{16}$/.test(b.adapter)) {
    fail('bridge.adapter', "must be an adapter's fingerprint (ad_ + 16 hex digits)");
  }
  if (b?.direction !== 'query' && b?.direction !== 'corpus')
    fail('bridge.direction', 'must be query or corpus');
}
