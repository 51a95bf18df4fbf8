import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueryObserver, QueryResponse, ShadowEvent } from '../app/query.js';
import type { CheckStatus } from '../monitor/checks.js';
import type { MonitorReport } from '../monitor/run.js';

const STATUS_VALUE: Record<CheckStatus, number> = { ok: 0, warn: 1, alert: 2 };

interface RequestSeries {
  readonly count: { inc(value?: number): void };
  readonly duration: { observe(value: number): void };
  /** Latencies recorded since the last flush. */
  readonly seconds: number[];
}

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The server's Prometheus metrics (prom-client, one private registry per server): HTTP requests, query
 * latency per alias and namespace from the query path, and the monitor's gauges (`monitor-metrics.ts`).
 */
export class ServerMetrics implements QueryObserver {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'reembed_http_requests_total',
    help: 'HTTP requests by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
    collect: () => this.#flushRequests(),
  });
  readonly httpDuration = new Histogram({
    name: 'reembed_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and method.',
    labelNames: ['route', 'method'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
    collect: () => this.#flushRequests(),
  });
  readonly queryDuration = new Histogram({
    name: 'reembed_query_duration_seconds',
    help: 'Read latency of one namespace within a query, by alias, namespace and role (served, shadow, fused).',
    labelNames: ['alias', 'namespace', 'role'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  readonly queries = this.#counter(
    'reembed_queries_total',
    'Queries answered, by alias and the namespace that served them (traffic share = one series over the sum).',
    ['alias', 'namespace'],
  );
  readonly mixed = this.#counter(
    'reembed_mixed_version_responses_total',
    'Responses whose hits came from more than one space without fusion (must stay 0).',
    ['alias'],
  );
  readonly shadowSamples = this.#counter(
    'reembed_shadow_samples_total',
    'Queries read in both namespaces of a shadow migration.',
    ['alias'],
  );
  readonly errors = this.#counter('reembed_errors_total', 'Requests that failed, by error code.', ['code']);

  /** Label children per (route, method, status): prom-client hashes a label object on every call. */
  readonly #requestSeries = new Map<string, RequestSeries>();
  /** Series with requests not yet handed to prom-client. */
  readonly #unflushed: RequestSeries[] = [];
  #unflushedCount = 0;

  /**
   * Counts one HTTP request and its latency (bounded: routes are patterns, statuses a short list).
   * The request is only noted here; prom-client gets it when the metrics are read (`collect`, so every
   * scrape and `get()` sees every request recorded before it) or once 1,024 are waiting. Updating
   * prom-client per request hashes, validates and buckets a label object twice, a visible cost in a CPU
   * profile of the server path (BENCHMARKS.md, "Figures behind code choices"); in a batch it runs with its
   * code and data in cache.
   */
  recordRequest(route: string, method: string, status: number, seconds: number): void {
    const id = `${route}\t${method}\t${status}`;
    let series = this.#requestSeries.get(id);
    if (!series) {
      series = {
        count: this.httpRequests.labels({ route, method, status: String(status) }),
        duration: this.httpDuration.labels({ route, method }),
        seconds: [],
      };
      this.#requestSeries.set(id, series);
    }
    if (series.seconds.length === 0) this.#unflushed.push(series);
    series.seconds.push(seconds);
    if (++this.#unflushedCount >= 1_024) this.#flushRequests();
  }

  #flushRequests(): void {
    for (const series of this.#unflushed) {
      series.count.inc(series.seconds.length);
      for (const seconds of series.seconds) series.duration.observe(seconds);
      series.seconds.length = 0;
    }
    this.#unflushed.length = 0;
    this.#unflushedCount = 0;
  }

  readonly checkStatus = this.#gauge(
    'reembed_monitor_check_status',
    'Monitor check status: 0 ok, 1 warn, 2 alert.',
    ['namespace', 'check'],
  );
  readonly alerts = this.#gauge('reembed_monitor_alerts', 'Alerts raised by the last monitor run.', []);
  readonly namespaceGauges = {
    records: this.#gauge('reembed_namespace_records', 'Records stored in the namespace.', ['namespace']),
    fingerprintShare: this.#gauge(
      'reembed_namespace_fingerprint_share',
      "Share of records carrying the namespace's fingerprint (below 1 is a fingerprint-distribution alert).",
      ['namespace'],
    ),
    coverage: this.#gauge(
      'reembed_namespace_coverage_ratio',
      'Live source documents held at their newest version.',
      ['namespace'],
    ),
    stale: this.#gauge(
      'reembed_namespace_stale_documents',
      'Documents held at a version behind the source.',
      ['namespace'],
    ),
    resurrected: this.#gauge(
      'reembed_namespace_resurrected_documents',
      'Documents deleted at the source but still present (must be 0).',
      ['namespace'],
    ),
    trafficShare: this.#gauge(
      'reembed_namespace_traffic_share',
      "Share of the collection's responses the namespace served (monitor window).",
      ['namespace'],
    ),
    mixedVersionRate: this.#gauge(
      'reembed_namespace_mixed_version_rate',
      'Share of served responses that mixed spaces without fusion (monitor window).',
      ['namespace'],
    ),
  };
  readonly deadLetters = this.#gauge(
    'reembed_dead_letters',
    'Documents a backfill gave up on, per target namespace.',
    ['namespace'],
  );
  readonly backfillRate = this.#gauge(
    'reembed_backfill_documents_per_second',
    'Documents made current in a migration target per second, between two samples.',
    ['namespace'],
  );
  readonly migrationCoverage = this.#gauge(
    'reembed_migration_coverage_ratio',
    "Share of live documents current in an unfinished migration's target.",
    ['migration', 'namespace'],
  );

  #gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  #counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Replaces the monitor gauges with a report's values (dropped namespaces disappear; unmeasured ones are left out). */
  publishMonitor(report: MonitorReport): void {
    this.checkStatus.reset();
    for (const g of Object.values(this.namespaceGauges)) g.reset();
    this.alerts.set(report.alerts);
    for (const c of report.checks)
      this.checkStatus.set({ namespace: c.namespace, check: c.check }, STATUS_VALUE[c.status]);
    for (const h of report.namespaces) {
      for (const [field, gauge] of Object.entries(this.namespaceGauges)) {
        const value = h[field as keyof typeof this.namespaceGauges];
        if (typeof value === 'number') gauge.set({ namespace: h.namespace }, value);
      }
    }
  }

  onQuery(response: QueryResponse): void {
    const alias = response.trace.alias;
    for (const read of response.trace.reads) {
      this.queryDuration.observe(
        { alias, namespace: read.namespace, role: read.role },
        read.latencyMs / 1000,
      );
      if (read.role !== 'shadow') this.queries.inc({ alias, namespace: read.namespace });
    }
    if (response.trace.mixedVersion) this.mixed.inc({ alias });
  }

  onShadow(event: ShadowEvent): void {
    this.shadowSamples.inc({ alias: event.alias });
  }

  expose(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
