import { describe, expect, it } from 'vitest';
import { formatNumber, linearTicks, timeTicks, valueDomain } from './axis.js';
import { renderChartSvg } from './render.js';
import type { ChartSpec } from './spec.js';

describe('chart axes', () => {
  it('ticks a fixed domain on round values and rounds an open one up', () => {
    expect(linearTicks([0, 1], 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(valueDomain({ title: null, format: { style: 'fixed', digits: -1 } }, [3.3, 1.9])).toEqual([
      0, 3.5,
    ]);
    expect(valueDomain({ title: null, format: { style: 'fixed', digits: -1 } }, [111, 93])).toEqual([0, 120]);
    expect(valueDomain({ title: null, format: { style: 'fixed', digits: -1 } }, [])).toEqual([0, 1]);
    expect(formatNumber(0.25, { style: 'percent', digits: 0 })).toBe('25%');
    expect(formatNumber(Number.NaN, { style: 'fixed', digits: 2 })).toBe('–');
  });

  it('labels UTC time ticks in a format that fits the span, on whole minutes when asked', () => {
    const at = Date.parse('2026-11-22T01:08:26Z');
    const short = timeTicks([at, at + 2.5 * 60_000], {});
    expect(short.values.every((t) => t % 30_000 === 0)).toBe(true);
    expect(short.values.map(short.label)).toContain('01:09:00');
    const minutes = timeTicks([at, at + 4 * 60_000], { wholeMinutes: true });
    expect(minutes.values.every((t) => t % 60_000 === 0)).toBe(true);
    expect(minutes.values.map(minutes.label)).toEqual(['01:09', '01:10', '01:11', '01:12']);
    const days = timeTicks([at, at + 5 * 86_400_000], {});
    expect(days.label(days.values[0] as number)).toMatch(/^Nov \d\d 00:00$/);
  });
});

describe('renderChartSvg', () => {
  const spec: ChartSpec = {
    title: 'Quality <old> & "new"',
    subtitle: 'higher is better',
    layout: 'row',
    panels: [
      {
        kind: 'bar',
        title: 'nDCG@10',
        width: 240,
        step: 30,
        band: 0.7,
        x: { title: null, domain: [0, 1], format: { style: 'fixed', digits: 1 } },
        rows: [
          { label: 'docs@v1', bars: [{ segments: [{ value: 0.245, color: '#7f7f7f' }], text: '0.245' }] },
          {
            label: 'docs@v2',
            bars: [{ segments: [{ value: 0.487, color: '#1f77b4' }], text: '0.487' }],
            outline: '#d62728',
            note: { text: '1 foreign record', color: '#d62728', bold: true },
          },
        ],
      },
      {
        kind: 'line',
        title: 'curve',
        width: 300,
        height: 200,
        x: { title: 'coverage', domain: [0, 1], format: { style: 'percent', digits: 0 } },
        y: { title: null, domain: [0, 1], format: { style: 'fixed', digits: 1 } },
        rules: [{ x: 0.5, label: 'validating' }],
        series: [
          {
            name: 'a',
            color: '#1f77b4',
            points: [
              { x: 0, y: 0.2 },
              { x: 1, y: 0.5 },
            ],
          },
          {
            name: 'b',
            color: '#7f7f7f',
            dashed: true,
            points: [
              { x: 0, y: 0.3 },
              { x: 1, y: 0.3 },
            ],
          },
        ],
      },
    ],
    legend: { items: [{ label: 'old', color: '#7f7f7f', symbol: 'square' }] },
  };

  it('draws bars to scale, values, notes, outlines, lines, rules and legend as plain SVG', () => {
    const svg = renderChartSvg(spec);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg).toContain('Quality &lt;old&gt; &amp; &quot;new&quot;');
    // 0.487 of a 240 px axis.
    expect(svg).toMatch(/<rect x="[\d.]+" y="[\d.]+" width="116\.88" height="21" fill="#1f77b4"\/>/);
    expect(svg).toContain('>0.487</text>');
    expect(svg).toContain('font-weight="bold">1 foreign record</text>');
    expect(svg).toMatch(/fill="none" stroke="#d62728" stroke-width="2.5"/);
    expect(svg).toMatch(
      /<path d="M[^"]+" fill="none" stroke="#7f7f7f" stroke-width="2.5"[^>]*stroke-dasharray="5,4"/,
    );
    expect(svg).toContain('transform="rotate(-90');
    expect(svg).toContain('>validating</text>');
    for (const label of ['0.0', '0.2', '1.0', '0%', '40%', '100%']) expect(svg).toContain(`>${label}</text>`);
    // No ids, no URLs but the namespace: inlines into HTML as is.
    expect(svg).not.toMatch(/\bid="/);
    expect(svg.match(/https?:/g)).toEqual(['http:']);
  });

  it('is as wide as its widest part: long labels widen the chart instead of being cut', () => {
    const long = renderChartSvg({
      ...spec,
      panels: [
        {
          ...(spec.panels[0] as Extract<ChartSpec['panels'][number], { kind: 'bar' }>),
          rows: [{ label: 'x'.repeat(80), bars: [{ segments: [{ value: 0.5, color: '#000' }] }] }],
        },
      ],
    });
    const width = (svg: string) => Number(/width="(\d+)"/.exec(svg)?.[1]);
    // 80 × 0.592 em of 12 px for the label, 240 px of plot, padding.
    expect(width(long)).toBeGreaterThan(80 * 7.1 + 240 + 32);
    expect(long).toContain(`>${'x'.repeat(80)}</text>`);
  });
});
