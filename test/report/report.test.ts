import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport } from '../../src/report/collect.js';
import { findChartFonts } from '../../src/report/fonts.js';
import { LAST_EVAL_KEY } from '../../src/report/quality.js';
import { renderPng, svgSize } from '../../src/report/render.js';
import { renderCharts, writeReport } from '../../src/report/write.js';
import { hashing, tempApp } from '../migration/helpers.js';
import {
  insertRawRecord,
  type MigratingSetup,
  migratingSetup,
  PNG_SIGNATURE,
  pngSize,
  runCli,
  selfGolden,
} from './helpers.js';

let setup: MigratingSetup;
let out: string;

beforeAll(async () => {
  setup = await migratingSetup();
  out = mkdtempSync(join(tmpdir(), 'reembed-report-'));
});

afterAll(async () => {
  await setup.cleanup();
  rmSync(out, { recursive: true, force: true });
});

/** Every `src`/`href` attribute value of an HTML document. */
const links = (html: string): string[] =>
  [...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1] as string);

describe('collectReport', () => {
  it('evaluates old, new and the mixed alias with a golden set, and keeps namespace results in the manifest', async () => {
    const golden = selfGolden(setup.docs.slice(-25), 25);
    const data = await collectReport(setup.app, { collection: 'docs', golden });
    const byTarget = new Map(data.quality.rows.map((r) => [r.target, r]));
    expect(byTarget.get('docs@v1')?.role).toBe('old');
    expect(byTarget.get('docs@v2')?.role).toBe('new');
    const mixed = byTarget.get('docs');
    expect(mixed?.kind).toBe('alias');
    expect(mixed?.role).toBe('during migration');
    expect(mixed?.routing).toMatch(/^split 25%/);
    // The fully covered old space finds every query's own document; the new one lacks the last 80 documents.
    expect(byTarget.get('docs@v1')?.metrics['recall@10']).toBe(1);
    expect(byTarget.get('docs@v2')?.metrics['recall@10']).toBeLessThan(1);
    expect(byTarget.get('docs@v2')?.coverage).toBeCloseTo(0.6, 5);

    const info = (await setup.app.backend.catalog.getNamespace('docs@v1')).info[LAST_EVAL_KEY] as {
      metrics: Record<string, number>;
    };
    expect(info.metrics['ndcg@10']).toBe(byTarget.get('docs@v1')?.metrics['ndcg@10']);

    const again = await collectReport(setup.app, { collection: 'docs' });
    expect(again.quality.rows.map((r) => [r.target, r.source, r.metrics['ndcg@10']])).toEqual(
      data.quality.rows
        .filter((r) => r.kind === 'namespace')
        .map((r) => [r.target, 'stored', r.metrics['ndcg@10']]),
    );
  });

  it('reports coverage history, fingerprint shares, traffic and the migration timeline', async () => {
    const data = await collectReport(setup.app, { collection: 'docs' });
    const v2 = data.coverage.filter((s) => s.namespace === 'docs@v2');
    expect(v2.length).toBeGreaterThanOrEqual(2);
    expect(v2[v2.length - 1]?.current).toBe(120);
    expect(data.coverage.filter((s) => s.namespace === 'docs@v1').every((s) => s.current === 200)).toBe(true);
    expect(data.versions.map((v) => [v.namespace, v.share, v.foreign])).toEqual([
      ['docs@v1', 1, false],
      ['docs@v2', 1, false],
    ]);
    // 30 searches through a 50% split: both namespaces served (a fused read counts for both).
    expect(data.traffic.map((t) => t.namespace)).toEqual(['docs@v1', 'docs@v2']);
    for (const t of data.traffic) {
      expect(t.queries).toBeGreaterThan(0);
      expect(t.queries).toBeLessThanOrEqual(30);
      expect(t.share).toBeCloseTo(t.queries / 30, 10);
    }
    expect(data.trafficByMinute.reduce((s, m) => s + m.queries, 0)).toBe(
      data.traffic.reduce((s, t) => s + t.queries, 0),
    );
    expect(data.latency.every((l) => l.source === 'traffic' && l.p99 >= l.p50)).toBe(true);
    const [migration] = data.migrations;
    expect(migration?.id).toBe(setup.migrationId);
    expect(migration?.timeline.map((t) => t.state)).toEqual(['planned', 'backfilling']);
    expect(migration?.rolloutPercent).toBe(25);
  });
});

describe('writeReport', () => {
  it('writes a self-contained HTML page with an SVG and the numbers of every chart', async () => {
    const data = await collectReport(setup.app, { collection: 'docs', golden: selfGolden(setup.docs, 25) });
    const written = await writeReport(data, { out: join(out, 'report.html') });
    const html = readFileSync(written.html as string, 'utf8');
    expect(links(html).filter((l) => /^(https?:)?\/\//i.test(l))).toEqual([]);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i);
    const drawn = written.charts.filter((c) => c.drawn).map((c) => c.id);
    expect(written.charts.flatMap((c) => c.warnings)).toEqual([]);
    expect(drawn).toEqual(['quality', 'coverage', 'versions', 'latency', 'traffic']);
    expect(html.match(/<svg\b/g)?.length).toBe(drawn.length);
    for (const id of drawn) expect(html).toContain(`<section id="${id}"`);
    for (const row of data.quality.rows)
      expect(html).toContain((row.metrics['ndcg@10'] as number).toFixed(4));
    for (const l of data.latency) expect(html).toContain(l.p99.toFixed(2));
    expect(html).toContain('120 / 200');
    // Each chart's ids are prefixed, so inlined charts never share a clip path.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('writes valid PNGs of the SVG size times the scale', async () => {
    const data = await collectReport(setup.app, { collection: 'docs' });
    const dir = join(out, 'png');
    const written = await writeReport(data, { pngDir: dir, scale: 1.5 });
    const rendered = new Map((await renderCharts(data)).map((r) => [r.chart.id, r.svg]));
    expect(written.pngs.map((p) => p.chart)).toEqual([
      'quality',
      'coverage',
      'versions',
      'latency',
      'traffic',
    ]);
    for (const p of written.pngs) {
      const png = readFileSync(p.path);
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      expect(png.length).toBeGreaterThan(8_000);
      const svg = svgSize(rendered.get(p.chart) as string);
      expect(svg.width).toBeGreaterThan(300);
      expect(pngSize(png)).toEqual({
        width: Math.round(svg.width * 1.5),
        height: Math.round(svg.height * 1.5),
      });
      expect(pngSize(png)).toEqual({ width: p.width, height: p.height });
    }
  });

  it('draws a foreign fingerprint in red and flags its section', async () => {
    const t = await tempApp();
    try {
      const v1 = await t.app.addSpace(hashing('v1', 1));
      const v2 = await t.app.addSpace(hashing('v2', 2));
      await t.app.createCollection('docs', v1.name);
      await t.app.ingest('docs', setup.docs.slice(0, 50));
      insertRawRecord(t.app, {
        namespace: 'docs@v1',
        sourceId: 'intruder',
        fingerprint: v2.fingerprint,
        vector: new Float32Array(64).fill(0.1),
      });
      const data = await collectReport(t.app, { collection: 'docs' });
      expect(data.versions.find((v) => v.foreign)).toMatchObject({
        namespace: 'docs@v1',
        space: 'v2',
        records: 1,
      });
      const rendered = await renderCharts(data);
      const versions = rendered.find((r) => r.chart.id === 'versions');
      expect(versions?.chart.alert).toBe(true);
      expect(versions?.svg).toMatch(/fill="#d62728"/);
      expect(versions?.svg).toContain('1 foreign record (2.0%)');
      const written = await writeReport(data, { out: join(out, 'foreign.html') });
      const html = readFileSync(written.html as string, 'utf8');
      expect(html).toContain('<section id="versions" class="chart alert">');
      expect(html).toContain('<td class="bad">FOREIGN</td>');
    } finally {
      await t.cleanup();
    }
  });

  it('reports an empty collection and an empty database without crashing', async () => {
    const t = await tempApp();
    try {
      const none = await collectReport(t.app);
      expect(none.namespaces).toEqual([]);
      const first = await writeReport(none, { out: join(out, 'none.html'), pngDir: join(out, 'none') });
      expect(first.pngs).toEqual([]);
      await t.app.addSpace(hashing('v1', 1));
      await t.app.createCollection('empty', 'v1');
      const data = await collectReport(t.app, { collection: 'empty', golden: selfGolden(setup.docs, 1) });
      expect(data.quality.rows).toEqual([]);
      const written = await writeReport(data, { out: join(out, 'empty.html'), pngDir: join(out, 'empty') });
      const html = readFileSync(written.html as string, 'utf8');
      expect(html).toContain('No records yet');
      expect(written.charts.find((c) => c.id === 'coverage')?.drawn).toBe(true);
      expect(written.pngs.map((p) => p.chart)).toEqual(['coverage']);
    } finally {
      await t.cleanup();
    }
  });
});

describe('reembed report', () => {
  it('writes the HTML and PNGs and prints paths and the data summary with --json', async () => {
    const html = join(out, 'cli', 'report.html');
    const png = join(out, 'cli', 'charts');
    const r = await runCli(
      setup.db,
      ['report', '--collection', 'docs', '--out', html, '--png', png, '--json'],
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      html: string;
      pngs: { path: string }[];
      summary: { namespaces: { name: string }[]; coverageSamples: number };
    };
    expect(doc.html).toBe(html);
    expect(doc.pngs.map((p) => p.path)).toContain(join(png, 'coverage.png'));
    expect(doc.summary.namespaces.map((n) => n.name)).toEqual(['docs@v1', 'docs@v2']);
    expect(doc.summary.coverageSamples).toBeGreaterThan(2);
    expect(readFileSync(html, 'utf8')).toContain('<svg');
  });

  it('refuses an unknown collection with NOT_FOUND', async () => {
    const r = await runCli(
      setup.db,
      ['report', '--collection', 'nope', '--out', join(out, 'x.html'), '--json'],
      out,
    );
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout).error.code).toBe('NOT_FOUND');
  });
});

describe('renderPng', () => {
  const fonts = findChartFonts();
  it.skipIf(fonts.family === null)(
    `draws chart text with ${fonts.family ?? 'no font (install fonts-dejavu-core)'}`,
    () => {
      const svg = (text: string) =>
        `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/><text x="10" y="28" font-family="sans-serif" font-size="20px" fill="#222">${text}</text></svg>`;
      // A white PNG compresses to almost nothing; drawn glyphs add antialiased edges.
      expect(renderPng(svg('nDCG@10 0.487')).png.length).toBeGreaterThan(renderPng(svg('')).png.length + 400);
    },
  );

  it('scales the SVG size', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><rect width="100" height="40" fill="#1f77b4"/></svg>';
    const image = renderPng(svg, { scale: 3 });
    expect(image.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect([image.width, image.height]).toEqual([300, 120]);
  });
});
