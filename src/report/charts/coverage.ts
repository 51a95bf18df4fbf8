import type { ReportData } from '../data.js';
import { sampleRatio } from '../data.js';
import { chart, percent, type ReportChart } from './chart.js';
import { COLORS, colorScale, namespaceColors, utcTimeAxis, WIDTH } from './theme.js';

/**
 * Coverage of each namespace over time, from the coverage samples (one per report, monitor run or backfill
 * batch that records one), with the migrations' state changes as dashed rules.
 */
export function coverageChart(data: ReportData): ReportChart {
  const samples = data.coverage;
  const title = 'Coverage over time';
  const caption =
    'Share of the live source documents each namespace holds at their newest version. A migration target climbs to 100% as the backfill runs; ' +
    'a serving namespace below 100% is missing or stale documents. Dashed rules mark migration state changes.';
  const table = {
    columns: ['time', 'namespace', 'current', 'live', 'stale', 'coverage'],
    rows: samples.map((s) => [s.at, s.namespace, s.current, s.live, s.stale, percent(sampleRatio(s), 2)]),
  };
  if (samples.length === 0) {
    return chart({
      id: 'coverage',
      title,
      caption,
      spec: null,
      table,
      empty: 'No namespaces. Create a collection first: reembed collection create docs --space <space>.',
    });
  }
  const colors = namespaceColors(data);
  const names = [...new Set(samples.map((s) => s.namespace))].sort();
  const first = samples[0]?.at ?? data.generatedAt;
  const last = samples[samples.length - 1]?.at ?? data.generatedAt;
  const events = data.migrations
    .flatMap((m) =>
      m.timeline
        .filter((t) => t.at >= first && t.at <= last && t.state !== 'planned')
        .map((t) => ({ at: t.at, state: t.state })),
    )
    .sort((a, b) => a.at.localeCompare(b.at));
  const subtitle = data.coverageHistory
    ? `${samples.length} samples, ${first.slice(0, 19).replace('T', ' ')} to ${last.slice(0, 19).replace('T', ' ')} UTC`
    : 'this backend keeps no coverage history: current values only';
  return chart({
    id: 'coverage',
    title,
    caption,
    table,
    spec: {
      title: { text: title, subtitle },
      width: WIDTH,
      height: 260,
      layer: [
        ...(events.length
          ? [
              {
                data: { values: events },
                mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#bbbbbb' },
                encoding: { x: { field: 'at', type: 'temporal' as const } },
              },
              {
                data: { values: dedupeLabels(events, ((Date.parse(last) - Date.parse(first)) * 16) / WIDTH) },
                // Along the rule, from the bottom up, left of it: where coverage lines rarely are.
                mark: {
                  type: 'text' as const,
                  angle: 270,
                  align: 'left' as const,
                  baseline: 'bottom' as const,
                  dx: 6,
                  dy: -3,
                  fontSize: 11,
                  color: COLORS.muted,
                },
                encoding: {
                  x: { field: 'at', type: 'temporal' as const },
                  y: { datum: 0 },
                  text: { field: 'state', type: 'nominal' as const },
                },
              },
            ]
          : []),
        {
          data: {
            values: samples.map((s) => ({ namespace: s.namespace, at: s.at, coverage: sampleRatio(s) })),
          },
          mark: { type: 'line', point: { size: 36, filled: true }, strokeWidth: 2.5 },
          encoding: {
            x: { field: 'at', type: 'temporal', title: 'time (UTC)', ...utcTimeAxis(first, last) },
            y: {
              field: 'coverage',
              type: 'quantitative',
              title: 'documents current',
              scale: { domain: [0, 1] },
              axis: { format: '.0%', tickCount: 5 },
            },
            color: {
              field: 'namespace',
              type: 'nominal',
              title: null,
              scale: colorScale(names, colors),
              sort: names,
            },
          },
        },
      ],
    },
  });
}

/**
 * Merges the labels of state changes too close to read apart on the time axis (a step that moves twice,
 * `validating → rolling-out`): closer than `minGapMs`, about one line of text at the chart's width.
 */
function dedupeLabels(
  events: readonly { at: string; state: string }[],
  minGapMs: number,
): { at: string; state: string }[] {
  const out: { at: string; state: string }[] = [];
  for (const e of events) {
    const prev = out[out.length - 1];
    if (prev && Math.abs(Date.parse(e.at) - Date.parse(prev.at)) < Math.max(minGapMs, 1000))
      prev.state = `${prev.state} → ${e.state}`;
    else out.push({ ...e });
  }
  return out;
}
