import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueryResponse } from '../../src/app/query.js';
import type { Reembed } from '../../src/app/reembed.js';
import type { Space } from '../../src/core/space.js';
import { hashingSpace } from '../../src/embedders/factory.js';
import type { MonitorCheck } from '../../src/monitor/checks.js';
import { type MonitorReport, monitorColumns, runMonitor } from '../../src/monitor/run.js';
import { recordTraffic } from '../../src/monitor/wiring.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { DOCS, tempApp } from '../app/helpers.js';
import { insertRawRecord, runCli } from './helpers.js';

let ctx: Awaited<ReturnType<typeof tempApp>>;
let app: Reembed;
const v1: Space = hashingSpace('v1', { dimension: 64, seed: 1 });
const v2: Space = hashingSpace('v2', { dimension: 64, seed: 2 });

beforeEach(async () => {
  ctx = await tempApp();
  app = ctx.app;
  await app.addSpace(v1);
  await app.addSpace(v2);
  await app.createCollection('docs', 'v1');
  await app.ingest('docs', DOCS);
});
afterEach(async () => ctx.cleanup());

function check(report: MonitorReport, name: MonitorCheck['check'], namespace = 'docs@v1'): MonitorCheck {
  const found = report.checks.find((c) => c.check === name && c.namespace === namespace);
  if (!found) throw new Error(`no ${name} check for ${namespace}`);
  return found;
}

describe('runMonitor on a healthy collection', () => {
  it('raises nothing and reports one fingerprint, full coverage and no traffic yet', async () => {
    const report = await runMonitor(app, { collection: 'docs' });
    expect(report.alerts).toBe(0);
    expect(report.warnings).toBe(0);
    expect(check(report, 'fingerprint')).toMatchObject({
      status: 'ok',
      value: 1,
      detail: `100% ${v1.fingerprint}`,
    });
    expect(check(report, 'dimension')).toMatchObject({ status: 'ok', value: 1 });
    expect(check(report, 'coverage')).toMatchObject({ status: 'ok', value: 1 });
    expect(check(report, 'traffic-share').detail).toMatch(/no queries/);
    expect(report.namespaces).toEqual([
      expect.objectContaining({ namespace: 'docs@v1', serving: true, status: 'ok', records: 4 }),
    ]);
    const cli = await runCli(ctx.db, ['monitor', '--collection', 'docs']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/docs@v1\s+fingerprint\s+ok/);
    expect(cli.stdout).toContain('0 alert(s), 0 warning(s) over 1 namespace(s)');
  });

  it('refuses an unknown collection', async () => {
    await expect(runMonitor(app, { collection: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('records written behind the guard', () => {
  it('detects a record of another fingerprint inserted straight into the records table; monitor exits 11', async () => {
    const [foreign] = await (await app.embedders.get(v2)).embed(['an intruder'], { inputType: 'document' });
    insertRawRecord(app, {
      namespace: 'docs@v1',
      sourceId: 'intruder',
      fingerprint: v2.fingerprint,
      vector: foreign as Float32Array,
    });
    const report = await runMonitor(app);
    const fp = check(report, 'fingerprint');
    expect(fp.status).toBe('alert');
    expect(fp.value).toBeCloseTo(4 / 5, 12);
    expect(fp.detail).toContain(`${v2.fingerprint} (1)`);
    expect(check(report, 'dimension').status).toBe('ok');
    expect(report.alerts).toBe(1);

    const cli = await runCli(ctx.db, ['monitor', '--json']);
    expect(cli.code).toBe(11);
    const json = JSON.parse(cli.stdout) as MonitorReport;
    expect(json.alerts).toBe(1);
    expect(json.checks.find((c) => c.check === 'fingerprint')?.status).toBe('alert');
  });

  it('detects a stored vector whose length differs from the space dimension', async () => {
    insertRawRecord(app, {
      namespace: 'docs@v1',
      sourceId: 'short',
      fingerprint: v1.fingerprint,
      vector: new Float32Array(63).fill(0.1),
    });
    const report = await runMonitor(app);
    expect(check(report, 'fingerprint').status).toBe('ok');
    const dim = check(report, 'dimension');
    expect(dim).toMatchObject({ status: 'alert', value: 4 / 5 });
    expect(dim.detail).toContain('space dimension 64, but stored vectors: 1 of 63');
    expect((await runCli(ctx.db, ['monitor'])).code).toBe(11);
  });
});

describe('coverage against the source', () => {
  it('counts stale, missing and resurrected documents after source changes the vectors did not follow', async () => {
    // Source changes committed without the vector writes (what a crash between the two leaves behind).
    await app.backend.sources.upsert('docs', [
      { id: 'a', text: 'The text of a changed after it was embedded.' },
      { id: 'e', text: 'A document the namespace never received.' },
    ]);
    await app.backend.sources.delete('docs', ['b']);
    const report = await runMonitor(app, { collection: 'docs' });
    expect(check(report, 'coverage')).toMatchObject({
      status: 'alert',
      value: 0.5,
      detail: '2/4 live documents current (1 missing, 1 stale)',
    });
    expect(check(report, 'stale')).toMatchObject({ status: 'warn', value: 1 });
    expect(check(report, 'resurrected')).toMatchObject({ status: 'alert', value: 1 });
    expect(report.alerts).toBe(2);
    const columns = await monitorColumns(app, 'docs');
    expect(columns.get('docs@v1')).toMatchObject({
      coverage: 0.5,
      stale: 1,
      resurrected: 1,
      status: 'alert',
    });
  });

  it('does not alert on a namespace still being built', async () => {
    await app.createNamespace('docs', v2, 'building');
    const report = await runMonitor(app, { collection: 'docs' });
    expect(check(report, 'coverage', 'docs@v2')).toMatchObject({ status: 'ok', value: 0 });
    expect(check(report, 'coverage', 'docs@v2').detail).toContain(
      'backfill not running: run reembed backfill run docs@v2',
    );
    expect(report.alerts).toBe(0);
  });
});

describe('traffic statistics', () => {
  it('buffers queries in memory, then reports share, latency and the mixed-version rate', async () => {
    const metrics = new ServerMetrics();
    const detach = app.queries.observe(metrics);
    const recording = recordTraffic(app, { flushIntervalMs: 60_000 });
    if (!recording) throw new Error('the SQLite backend records traffic');
    const repository = app.backend.traffic ?? null;
    const responses: QueryResponse[] = [];
    for (const text of ['embedding spaces', 'atomic switch', 'rank fusion', 'tombstone', 'models']) {
      responses.push(await app.search('docs', { text, k: 3 }));
    }
    expect(responses.every((r) => !r.trace.mixedVersion)).toBe(true);
    // No synchronous write per query: nothing is stored until a flush.
    expect(recording.recorder.pending).toBeGreaterThan(0);
    expect(await repository?.read()).toEqual([]);
    // A response built from two spaces without fusion, as the query path would report it.
    const base = responses[0] as QueryResponse;
    recording.recorder.onQuery({
      ...base,
      trace: { ...base.trace, fingerprints: [v1.fingerprint, v2.fingerprint], mixedVersion: true },
    });
    await recording.stop();
    expect(recording.recorder.pending).toBe(0);

    const report = await runMonitor(app, { collection: 'docs' });
    metrics.publishMonitor(report);
    detach();
    const mixed = check(report, 'mixed-version');
    expect(mixed.status).toBe('alert');
    expect(mixed.value).toBeCloseTo(1 / 6, 12);
    expect(mixed.detail).toBe('1 of 6 responses mixed records of several spaces without fusion');
    expect(check(report, 'traffic-share')).toMatchObject({ status: 'ok', value: 1 });
    const p50 = check(report, 'latency-p50').value as number;
    const p99 = check(report, 'latency-p99').value as number;
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
    expect(report.aliases).toEqual([
      expect.objectContaining({ alias: 'docs', queries: 6, mixed: 1, byNamespace: { 'docs@v1': 6 } }),
    ]);

    // The server's prom-client metrics: live query counters, then the monitor's gauges.
    const text = await metrics.expose();
    expect(text).toContain('reembed_queries_total{alias="docs",namespace="docs@v1"} 5');
    expect(text).toMatch(/reembed_namespace_mixed_version_rate\{namespace="docs@v1"\} 0\.1666/);
    expect(text).toContain('reembed_monitor_check_status{namespace="docs@v1",check="mixed-version"} 2');
    expect(text).toContain('reembed_monitor_alerts 1');

    // A window that starts after the traffic sees none of it.
    const later = await runMonitor(app, { collection: 'docs', since: new Date(Date.now() + 120_000) });
    expect(check(later, 'mixed-version')).toMatchObject({ status: 'ok', value: null });
  });

  it('keeps buffered rows when a flush fails and writes them once on the next flush', async () => {
    const sqlite = app.backend.traffic ?? null;
    if (!sqlite) throw new Error('the SQLite backend records traffic');
    let failures = 1;
    const flaky = {
      record: async (rows: Parameters<typeof sqlite.record>[0]) => {
        if (failures-- > 0) throw new Error('disk full');
        return sqlite.record(rows);
      },
      read: sqlite.read.bind(sqlite),
      prune: sqlite.prune.bind(sqlite),
    };
    const errors: unknown[] = [];
    const recording = recordTraffic(app, { repository: flaky, onError: (e) => errors.push(e) });
    await app.search('docs', { text: 'fusion', k: 2 });
    await expect(recording?.recorder.flush()).rejects.toThrow('disk full');
    await app.search('docs', { text: 'fusion', k: 2 });
    await recording?.stop();
    const rows = await sqlite.read({ collection: 'docs' });
    expect(rows.find((r) => r.role === 'response')?.queries).toBe(2);
    expect(rows.find((r) => r.role === 'served')?.queries).toBe(2);
    expect(await sqlite.prune(new Date(Date.now() + 120_000))).toBe(rows.length);
  });
});
