import type { CheckStatus } from './checks.js';
import type { MetricsRegistry } from './metrics-registry.js';
import type { MonitorReport } from './run.js';

const STATUS_VALUE: Record<CheckStatus, number> = { ok: 0, warn: 1, alert: 2 };

/**
 * Publishes a monitor report as gauges (the server's `/metrics` serves them, next to the live query
 * counters the traffic recorder maintains). Each family is reset first, so a namespace that was dropped
 * or retired disappears instead of reporting its last value forever. Unmeasured values are left out.
 *
 * Families: `reembed_monitor_check_status{namespace,check}` (0 ok, 1 warn, 2 alert),
 * `reembed_monitor_alerts`, `reembed_namespace_records`, `reembed_namespace_fingerprint_share`,
 * `reembed_namespace_coverage_ratio`, `reembed_namespace_stale_documents`,
 * `reembed_namespace_resurrected_documents`, `reembed_namespace_traffic_share`,
 * `reembed_namespace_latency_ms{quantile}`, `reembed_namespace_mixed_version_rate`.
 */
export function publishMonitorMetrics(report: MonitorReport, registry: MetricsRegistry): void {
  const ns = ['namespace'];
  const status = registry.gauge(
    'reembed_monitor_check_status',
    'Monitor check status: 0 ok, 1 warn, 2 alert.',
    ['namespace', 'check'],
  );
  const alerts = registry.gauge('reembed_monitor_alerts', 'Alerts raised by the last monitor run.');
  const gauges = {
    records: registry.gauge('reembed_namespace_records', 'Records stored in the namespace.', ns),
    fingerprint: registry.gauge(
      'reembed_namespace_fingerprint_share',
      "Share of records carrying the namespace's fingerprint (must be 1).",
      ns,
    ),
    coverage: registry.gauge(
      'reembed_namespace_coverage_ratio',
      'Live source documents held at their newest version.',
      ns,
    ),
    stale: registry.gauge(
      'reembed_namespace_stale_documents',
      'Documents held at a version behind the source.',
      ns,
    ),
    resurrected: registry.gauge(
      'reembed_namespace_resurrected_documents',
      'Documents deleted at the source but still present (must be 0).',
      ns,
    ),
    share: registry.gauge(
      'reembed_namespace_traffic_share',
      "Share of the collection's responses the namespace served.",
      ns,
    ),
    mixed: registry.gauge(
      'reembed_namespace_mixed_version_rate',
      'Share of served responses that mixed spaces without fusion.',
      ns,
    ),
  };
  const latency = registry.gauge(
    'reembed_namespace_latency_ms',
    'Read latency quantiles over the monitor window (ms).',
    ['namespace', 'quantile'],
  );
  for (const family of [status, ...Object.values(gauges), latency]) family.reset();

  alerts.set({}, report.alerts);
  for (const c of report.checks)
    status.set({ namespace: c.namespace, check: c.check }, STATUS_VALUE[c.status]);
  for (const h of report.namespaces) {
    const labels = { namespace: h.namespace };
    const set = (gauge: (typeof gauges)[keyof typeof gauges], value: number | null): void => {
      if (value !== null) gauge.set(labels, value);
    };
    set(gauges.records, h.records);
    set(gauges.fingerprint, h.fingerprintShare);
    set(gauges.coverage, h.coverage);
    set(gauges.stale, h.stale);
    set(gauges.resurrected, h.resurrected);
    set(gauges.share, h.trafficShare);
    set(gauges.mixed, h.mixedVersionRate);
    if (h.latencyP50Ms !== null) latency.set({ ...labels, quantile: '0.5' }, h.latencyP50Ms);
    if (h.latencyP99Ms !== null) latency.set({ ...labels, quantile: '0.99' }, h.latencyP99Ms);
  }
}
