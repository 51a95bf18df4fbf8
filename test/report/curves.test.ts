import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isReembedError } from '../../src/core/errors.js';
import { qualityCurvesChart } from '../../src/report/charts/quality-curves.js';
import { parseQualityCurves, readQualityCurves } from '../../src/report/curves.js';
import type { ReportData } from '../../src/report/data.js';
import { renderCharts } from '../../src/report/write.js';

const dir = mkdtempSync(join(tmpdir(), 'reembed-curves-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The quality benchmark's layout: per dataset, method and metric, per coverage the values of each seed. */
const benchmark = {
  benchmark: 'quality',
  coverages: [0, 0.5, 1],
  reports: [
    {
      name: 'scifact',
      results: {
        'clean v1': {
          'ndcg@10': [
            [0.2, 0.2],
            [0.2, 0.2],
            [0.2, 0.2],
          ],
        },
        'clean v2': {
          'ndcg@10': [
            [0.5, 0.5],
            [0.5, 0.5],
            [0.5, 0.5],
          ],
        },
        'naive mixed index': {
          'ndcg@10': [
            [0.0, 0.02],
            [0.25, 0.35],
            [0.5, 0.5],
          ],
          'recall@10': [0.01, 0.3, 0.6],
        },
        'lazy (default fusion)': {
          'ndcg@10': [
            [0.2, 0.2],
            [0.34, 0.36],
            [0.5, 0.5],
          ],
        },
      },
    },
    { name: 'cranfield', results: { 'clean v1': { 'ndcg@10': [[0.3], [0.3], [0.3]] } } },
  ],
};

function dataWith(curves: ReturnType<typeof parseQualityCurves>): ReportData {
  return {
    kind: 'report-data',
    generatedAt: '2026-01-01T00:00:00.000Z',
    collection: 'docs',
    since: '2025-12-31T00:00:00.000Z',
    namespaces: [],
    migrations: [],
    quality: {
      rows: [],
      curves: curves.points,
      curvesSource: 'quality.json',
      curvesDataset: curves.dataset,
      skipped: [],
    },
    coverage: [],
    coverageHistory: true,
    versions: [],
    latency: [],
    traffic: [],
    trafficByMinute: [],
  };
}

describe('quality curves', () => {
  it('reads the benchmark layout, averaging seeds, and picks a dataset', async () => {
    const path = join(dir, 'quality.json');
    writeFileSync(path, JSON.stringify(benchmark));
    const curves = await readQualityCurves(path);
    expect(curves.dataset).toBe('scifact');
    expect(curves.datasets).toEqual(['scifact', 'cranfield']);
    const naive = curves.points.filter((p) => p.method === 'naive mixed index' && p.metric === 'ndcg@10');
    expect(naive.map((p) => [p.coverage, Number(p.value.toFixed(6))])).toEqual([
      [0, 0.01],
      [0.5, 0.3],
      [1, 0.5],
    ]);
    expect(curves.points.filter((p) => p.metric === 'recall@10').map((p) => p.value)).toEqual([
      0.01, 0.3, 0.6,
    ]);
    const cranfield = await readQualityCurves(path, { dataset: 'cranfield' });
    expect(cranfield.points.map((p) => p.value)).toEqual([0.3, 0.3, 0.3]);
    await expect(readQualityCurves(path, { dataset: 'nope' })).rejects.toThrow(
      /no dataset "nope" \(it has: scifact, cranfield\)/,
    );
  });

  it('reads curves and flat rows, with coverage in percent', () => {
    const a = parseQualityCurves({
      dataset: 'x',
      curves: [{ method: 'm', points: [{ coverage: 0.5, metrics: { 'ndcg@10': 0.4 } }] }],
    });
    expect(a.points).toEqual([{ method: 'm', coverage: 0.5, metric: 'ndcg@10', value: 0.4 }]);
    const b = parseQualityCurves([
      { method: 'm', coverage: 30, 'ndcg@10': 0.3, note: 'ignored' },
      { method: 'm', coverage: 100, 'NDCG@10': 0.5 },
    ]);
    expect(b.points.map((p) => [p.coverage, p.metric, p.value])).toEqual([
      [0.3, 'ndcg@10', 0.3],
      [1, 'ndcg@10', 0.5],
    ]);
  });

  it('refuses a file it cannot use with INVALID_INPUT naming it', () => {
    for (const bad of [42, { rows: [{ coverage: 0.1 }] }, { something: [] }]) {
      try {
        parseQualityCurves(bad, 'bad.json');
        expect.unreachable();
      } catch (error) {
        expect(isReembedError(error) && error.code).toBe('INVALID_INPUT');
        expect((error as Error).message).toContain('bad.json');
      }
    }
  });

  it('charts the chosen methods with the naive index in red and the clean ends dashed', async () => {
    const curves = parseQualityCurves(benchmark);
    const c = qualityCurvesChart(dataWith(curves));
    expect(c.table.columns).toEqual(['method', 'coverage', 'ndcg@10', 'recall@10']);
    expect(c.table.rows.find((r) => r[0] === 'naive mixed index' && r[1] === '50%')).toEqual([
      'naive mixed index',
      '50%',
      '0.3000',
      '0.3000',
    ]);
    const [rendered] = (await renderCharts(dataWith(curves))).filter((r) => r.chart.id === 'quality-curves');
    expect(rendered?.warnings).toEqual([]);
    expect(rendered?.svg).toMatch(/stroke="#d62728"/);
    expect(rendered?.svg).toMatch(/stroke-dasharray="5,4"/);
  });
});
