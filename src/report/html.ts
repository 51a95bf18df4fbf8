import { percent } from './charts/chart.js';
import type { ReportChart, ReportTable } from './charts/index.js';
import type { ReportData } from './data.js';

/** A chart with its rendered SVG (null when the chart has nothing to draw). */
export interface RenderedChart {
  readonly chart: ReportChart;
  readonly svg: string | null;
  /** Problems met while rendering (none expected; kept for callers that report them). */
  readonly warnings: readonly string[];
}

const esc = (text: unknown): string =>
  String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/** `code` spans for backtick-quoted commands in captions and empty-state messages. */
const prose = (text: string): string => esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const CSS = `
:root { color-scheme: light; --ink: #222; --muted: #555; --line: #ddd; --alert: #d62728; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1440px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 4px; }
.meta, .caption { color: var(--muted); margin: 0 0 12px; }
nav { margin: 12px 0 20px; display: flex; flex-wrap: wrap; gap: 8px 16px; }
nav a { color: #1f77b4; text-decoration: none; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.card.alert { border-color: var(--alert); color: var(--alert); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; margin: 0 0 20px; }
section.alert { border: 2px solid var(--alert); }
.grid { display: grid; grid-template-columns: minmax(0, max-content) minmax(280px, 1fr); gap: 24px; align-items: start; }
@media (max-width: 1100px) { .grid { grid-template-columns: minmax(0, 1fr); } }
figure { margin: 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
.numbers { overflow: auto; max-height: 460px; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; white-space: nowrap; }
th { position: sticky; top: 0; background: #f2f2f2; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: var(--alert); font-weight: 700; }
.empty { color: var(--muted); background: var(--bg); border: 1px dashed var(--line); border-radius: 6px; padding: 16px; }
code { background: #f0f0f0; border-radius: 3px; padding: 0 4px; font-size: 13px; }
footer { color: var(--muted); font-size: 13px; }
`;

const NUMERIC = /^[-+]?\d[\d,.]*(%| ms)?$|^–$/;

function tableHtml(table: ReportTable, caption: string): string {
  if (table.rows.length === 0) return '<p class="empty">No numbers yet.</p>';
  const head = table.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row
          .map((cell) => {
            const text = cell === null ? '–' : String(cell);
            const cls = text === 'FOREIGN' ? ' class="bad"' : NUMERIC.test(text) ? ' class="num"' : '';
            return `<td${cls}>${esc(text)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><caption hidden>${esc(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Inline SVG in HTML needs no namespace declarations; dropping them leaves no URL at all in the page. */
const inlineSvg = (svg: string): string =>
  svg.replace(/^<svg\b[^>]*>/, (root) => root.replace(/ xmlns(?::xlink)?="[^"]*"/g, ''));

function chartSection({ chart, svg }: RenderedChart): string {
  const figure =
    svg === null
      ? `<p class="empty">${prose(chart.empty ?? 'Nothing to draw.')}</p>`
      : `<figure role="img" aria-label="${esc(chart.title)}">${inlineSvg(svg)}</figure>`;
  return `<section id="${esc(chart.id)}" class="chart${chart.alert ? ' alert' : ''}">
<h2>${esc(chart.title)}</h2>
<p class="caption">${prose(chart.caption)}</p>
<div class="grid">${figure}<div class="numbers">${tableHtml(chart.table, chart.title)}</div></div>
</section>`;
}

function namespacesSection(data: ReportData): string {
  const table: ReportTable = {
    columns: [
      'namespace',
      'state',
      'role',
      'space',
      'fingerprint',
      'dim',
      'records',
      'current / live',
      'stale',
      'coverage',
    ],
    rows: data.namespaces.map((n) => [
      n.name,
      n.state,
      n.role ?? '',
      n.space,
      n.fingerprint,
      n.dimension,
      n.records,
      `${n.current} / ${n.live}`,
      n.stale,
      percent(n.coverage, 2),
    ]),
  };
  const body =
    data.namespaces.length === 0
      ? '<p class="empty">No namespaces. Create a collection: <code>reembed collection create docs --space &lt;space&gt;</code>.</p>'
      : `<div class="numbers">${tableHtml(table, 'Namespaces')}</div>`;
  return `<section id="namespaces"><h2>Namespaces</h2><p class="caption">Each namespace is one collection in one embedding space; its records must all carry the space's fingerprint.</p>${body}</section>`;
}

function migrationsSection(data: ReportData): string {
  if (data.migrations.length === 0) return '';
  const table: ReportTable = {
    columns: [
      'migration',
      'alias',
      'strategy',
      'from → to',
      'state',
      'rollout',
      'shadow agreement',
      'timeline (UTC)',
    ],
    rows: data.migrations.map((m) => [
      m.id,
      m.alias,
      m.strategy,
      `${m.from} → ${m.to}`,
      m.state,
      m.rolloutPercent === null ? '' : `${m.rolloutPercent}%`,
      m.agreement
        ? `${m.agreement.samples} samples${m.agreement.rbo === null ? '' : `, RBO ${m.agreement.rbo.toFixed(3)}`}`
        : '',
      m.timeline.map((t) => `${t.at.slice(11, 19)} ${t.state}`).join(' · '),
    ]),
  };
  return `<section id="migrations"><h2>Migrations</h2><p class="caption">Newest first; each state change is in the audit log.</p><div class="numbers">${tableHtml(table, 'Migrations')}</div></section>`;
}

function cards(data: ReportData, charts: readonly RenderedChart[]): string {
  const serving = data.namespaces.filter((n) => n.state === 'serving').length;
  const active = data.migrations.find((m) => !['retired', 'rolled-back'].includes(m.state));
  const foreign = data.versions.filter((v) => v.foreign).reduce((s, v) => s + v.records, 0);
  const best = [...data.quality.rows].sort(
    (a, b) => (b.metrics['ndcg@10'] ?? 0) - (a.metrics['ndcg@10'] ?? 0),
  )[0];
  const items = [
    `<div class="card"><b>${data.namespaces.length}</b>namespaces (${serving} serving)</div>`,
    `<div class="card"><b>${esc(active ? active.state : 'none')}</b>${active ? `migration ${esc(active.strategy)} → ${esc(active.to)}` : 'active migration'}</div>`,
    best
      ? `<div class="card"><b>${(best.metrics['ndcg@10'] ?? 0).toFixed(3)}</b>best nDCG@10 (${esc(best.target)})</div>`
      : '',
    `<div class="card${foreign ? ' alert' : ''}"><b>${foreign}</b>foreign-fingerprint records</div>`,
    `<div class="card"><b>${charts.filter((c) => c.svg !== null).length}</b>charts drawn</div>`,
  ];
  return `<div class="cards">${items.join('')}</div>`;
}

/**
 * The report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no external
 * font, image or stylesheet, so it can be mailed, attached to a ticket or opened offline.
 */
export function reportHtml(data: ReportData, charts: readonly RenderedChart[]): string {
  const scope = data.collection === null ? 'all collections' : `collection ${data.collection}`;
  const nav = [
    '<a href="#namespaces">Namespaces</a>',
    ...(data.migrations.length ? ['<a href="#migrations">Migrations</a>'] : []),
    ...charts.map((c) => `<a href="#${esc(c.chart.id)}">${esc(c.chart.title)}</a>`),
  ].join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reembed report: ${esc(scope)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>reembed report</h1>
<p class="meta">${esc(scope)} · generated ${esc(data.generatedAt.replace('T', ' ').slice(0, 19))} UTC · traffic since ${esc(data.since.replace('T', ' ').slice(0, 16))} UTC</p>
${cards(data, charts)}
<nav>${nav}</nav>
${namespacesSection(data)}
${migrationsSection(data)}
${charts.map(chartSection).join('\n')}
<footer>Generated by <code>reembed report</code>. Every number drawn is in the table beside its chart.</footer>
</main>
</body>
</html>
`;
}
