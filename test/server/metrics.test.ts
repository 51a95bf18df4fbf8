import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';

/**
 * HTTP request metrics are noted per request and handed to prom-client in batches (when the metrics are
 * read, or once 1,024 wait): every read must still see every request recorded before it, exactly once,
 * with the histogram prom-client would have built from one `observe` per request.
 */
describe('ServerMetrics.recordRequest', () => {
  const SEARCH = '/v1/aliases/:alias/search';

  /** What per-request prom-client updates give for the same latencies (the reference). */
  async function reference(seconds: readonly number[]): Promise<string> {
    const registry = new Registry();
    const h = new Histogram({
      name: 'reembed_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern and method.',
      labelNames: ['route', 'method'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    for (const s of seconds) h.observe({ route: SEARCH, method: 'POST' }, s);
    return registry.getSingleMetricAsString('reembed_http_request_duration_seconds');
  }

  it('every scrape counts every request recorded before it, once, with the same histogram', async () => {
    const metrics = new ServerMetrics();
    const first = [0.0004, 0.0009, 0.003, 0.2, 7];
    for (const s of first) metrics.recordRequest(SEARCH, 'POST', 200, s);
    metrics.recordRequest(SEARCH, 'POST', 401, 0.0001);
    const text = await metrics.expose();
    expect(text).toContain(
      `reembed_http_requests_total{route="${SEARCH}",method="POST",status="200"} ${first.length}`,
    );
    expect(text).toContain(`reembed_http_requests_total{route="${SEARCH}",method="POST",status="401"} 1`);
    expect(await metrics.registry.getSingleMetricAsString('reembed_http_request_duration_seconds')).toBe(
      await reference([...first, 0.0001]),
    );
    // A second read without new requests changes nothing (nothing is handed over twice).
    expect(await metrics.expose()).toBe(text);
    const more = [0.02, 0.0007];
    for (const s of more) metrics.recordRequest(SEARCH, 'POST', 200, s);
    // `get()` of one metric (not only a full scrape) sees them too.
    const counted = await metrics.httpRequests.get();
    const ok = counted.values.find((v) => v.labels.status === '200');
    expect(ok?.value).toBe(first.length + more.length);
    expect(await metrics.registry.getSingleMetricAsString('reembed_http_request_duration_seconds')).toBe(
      await reference([...first, 0.0001, ...more]),
    );
  });

  it('hands a long run of requests over without waiting for a scrape, and loses none', async () => {
    const metrics = new ServerMetrics();
    const seconds = Array.from({ length: 5_000 }, (_, i) => ((i * 7919) % 1000) / 100_000);
    for (const s of seconds) metrics.recordRequest(SEARCH, 'POST', 200, s);
    metrics.recordRequest('/healthz', 'GET', 200, 0.0001);
    const text = await metrics.expose();
    expect(text).toContain(
      `reembed_http_requests_total{route="${SEARCH}",method="POST",status="200"} ${seconds.length}`,
    );
    expect(text).toContain('reembed_http_requests_total{route="/healthz",method="GET",status="200"} 1');
    const duration = await metrics.registry.getSingleMetricAsString('reembed_http_request_duration_seconds');
    expect(
      duration
        .split('\n')
        .filter((l) => l.includes(SEARCH))
        .join('\n'),
    ).toBe(
      (await reference(seconds))
        .split('\n')
        .filter((l) => l.includes(SEARCH))
        .join('\n'),
    );
  });
});
