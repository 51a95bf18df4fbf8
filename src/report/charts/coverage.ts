import type { ReportData } from '../data.js';
import { sampleRatio } from '../data.js';
import type { ChartSpec } from '../svg/spec.js';
import { percent, type ReportChart, reportChart } from './chart.js';
import { COLORS, namespaceColors, WIDTH } from './theme.js';

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
  const head = {
    id: 'coverage',
    title,
    caption,
    table,
    ifEmpty: 'No namespaces. Create a collection first: reembed collection create docs --space <space>.',
  };
  return reportChart(head, samples.length > 0, () => drawCoverage(data, samples));
}

function drawCoverage(data: ReportData, samples: ReportData['coverage']): Omit<ChartSpec, 'title'> {
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
  return {
    subtitle,
    panels: [
      {
        kind: 'line',
        width: WIDTH,
        height: 260,
        x: { title: 'time (UTC)', time: true },
        y: {
          title: 'documents current',
          domain: [0, 1],
          format: { style: 'percent', digits: 0 },
          ticks: 5,
        },
        // Every state change gets its rule; changes too close to read apart share one label.
        rules: [
          ...events.map((e) => ({ x: Date.parse(e.at), label: '' })),
          ...dedupeLabels(events, ((Date.parse(last) - Date.parse(first)) * 16) / WIDTH).map((e) => ({
            x: Date.parse(e.at),
            label: e.state,
          })),
        ],
        series: names.map((name) => ({
          name,
          color: colors.get(name) ?? COLORS.muted,
          points: samples
            .filter((s) => s.namespace === name)
            .map((s) => ({ x: Date.parse(s.at), y: sampleRatio(s) })),
        })),
      },
    ],
    legend: {
      items: names.map((name) => ({
        label: name,
        color: colors.get(name) ?? COLORS.muted,
        symbol: 'line',
      })),
    },
  };
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
