/**
 * Aggregation and Markdown tables of the LangChain `index()` comparison: medians over runs per phase and
 * side, the throughput ratio, peak RSS, embed calls and how many runs passed verification.
 */
import { median } from './lib.js';

export type Side = 'peer' | 'reembed';

/** One phase line of one run, tagged with where it came from. */
export interface Sample {
  readonly part: string;
  readonly setup: string;
  readonly side: Side;
  /** Reembed's backfill variant (`default`, `c8`, `batch1024`); `-` for the peer. */
  readonly variant: string;
  readonly run: number;
  readonly line: Record<string, unknown>;
}

interface Cell {
  readonly docs: number;
  readonly ms: number[];
  readonly rss: number[];
  readonly calls: number[];
  readonly ok: boolean[];
  readonly notes: string[];
}

export interface Row {
  readonly phase: string;
  readonly peer: Cell | null;
  readonly reembed: Cell | null;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

function verifyNote(line: Record<string, unknown>): string {
  const v = (line.verify ?? {}) as Record<string, unknown>;
  if (line.error) return `error: ${String(line.error).slice(0, 80)}`;
  if (v.ok) return '';
  const parts: string[] = [];
  if (!v.count_ok) parts.push(`${v.store_count} rows / ${v.record_count} records for ${v.live_docs} live`);
  if (v.rank1 && !/^(\d+)\/\1$/.test(String(v.rank1))) parts.push(`rank-1 ${v.rank1}`);
  for (const [k, val] of Object.entries(v))
    if (k.startsWith('stale_') && k !== 'stale_hits' && !String(val).startsWith('0/'))
      parts.push(`${k} ${val}`);
  return parts.join('; ');
}

function cellOf(
  lines: readonly Record<string, unknown>[],
  sum?: readonly Record<string, unknown>[],
): Cell | null {
  if (lines.length === 0) return null;
  const first = lines[0] as Record<string, unknown>;
  const last = sum ?? lines;
  return {
    docs: num(first.docs),
    ms: lines.map((l, i) => num(l.ms) + (sum ? num(sum[i]?.ms) : 0)),
    rss: lines.map((l, i) => Math.max(num(l.peak_rss_mb), sum ? num(sum[i]?.peak_rss_mb) : 0)),
    calls: lines.map((l, i) => num(l.embed_calls) + (sum ? num(sum[i]?.embed_calls) : 0)),
    ok: last.map((l) => (l.verify as { ok?: boolean } | undefined)?.ok === true && l.result_ok !== false),
    notes: [...new Set(last.map(verifyNote).filter(Boolean))],
  };
}

/** `default` → the library's backfill defaults; `c8` → concurrency 8; `batch1024` → batch of 1,024. */
export function variantLabel(v: string): string {
  if (v === 'default') return 'backfill defaults';
  if (v === 'baseline') return 'baseline checkout, backfill defaults';
  const m = /^(c|batch)(\d+)$/.exec(v);
  if (!m) return v;
  return m[1] === 'c' ? `concurrency ${m[2]}` : `backfill batch ${m[2]}, diagnostic`;
}

/** The rows of one part × setup, in phase order (sorted by run so sums pair the same run). */
export function rowsOf(
  samples: readonly Sample[],
  part: string,
  setup: string,
  variants: readonly string[],
): Row[] {
  const of = (side: Side, phase: string, variant = '-') =>
    samples
      .filter(
        (s) =>
          s.part === part &&
          s.setup === setup &&
          s.side === side &&
          s.variant === variant &&
          s.line.phase === phase,
      )
      .sort((a, b) => a.run - b.run)
      .map((s) => s.line);
  const base = variants[0] as string;
  const rows: Row[] = [
    { phase: 'full', peer: cellOf(of('peer', 'full')), reembed: cellOf(of('reembed', 'full', base)) },
    { phase: 'noop', peer: cellOf(of('peer', 'noop')), reembed: cellOf(of('reembed', 'noop', base)) },
    {
      phase: 'incremental (peer: cleanup "incremental")',
      peer: cellOf(of('peer', 'incremental')),
      reembed: cellOf(of('reembed', 'incremental', base)),
    },
    {
      phase: 'incremental_deletes (peer: cleanup "full")',
      peer: cellOf(of('peer', 'incremental_deletes')),
      reembed: null,
    },
    {
      phase: 'incremental, until correct (peer: both passes)',
      peer: cellOf(of('peer', 'incremental'), of('peer', 'incremental_deletes')),
      reembed: cellOf(of('reembed', 'incremental', base)),
    },
  ];
  for (const v of variants) {
    rows.push({
      phase: `model_upgrade (reembed ${variantLabel(v)})`,
      peer: cellOf(of('peer', 'model_upgrade')),
      reembed: cellOf(of('reembed', 'model_upgrade', v)),
    });
  }
  return rows;
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

function msText(c: Cell | null): string {
  if (!c) return '—';
  const m = median(c.ms);
  return c.ms.length > 1
    ? `${fmtInt(m)} (${fmtInt(Math.min(...c.ms))}–${fmtInt(Math.max(...c.ms))})`
    : fmtInt(m);
}

const rate = (c: Cell | null): number => (c ? (c.docs * 1000) / median(c.ms) : Number.NaN);

function verifyText(c: Cell | null): string {
  if (!c) return '—';
  const passed = c.ok.filter(Boolean).length;
  return `${passed === c.ok.length ? 'ok' : 'FAIL'} ${passed}/${c.ok.length}${c.notes.length ? ` (${c.notes.join('; ')})` : ''}`;
}

/** A Markdown table of rows. Ratio = reembed docs/s ÷ peer docs/s (above 1: reembed is faster). */
export function markdownTable(rows: readonly Row[]): string {
  const head = [
    'phase',
    'docs',
    'peer ms (min–max)',
    'peer docs/s',
    'reembed ms (min–max)',
    'reembed docs/s',
    'reembed ÷ peer',
    'peak RSS MB peer / reembed',
    'embed calls peer / reembed',
    'verify peer',
    'verify reembed',
  ];
  const out = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i >= 9 ? '---' : '---:')).join('|')}|`,
  ];
  for (const r of rows) {
    const ratio = rate(r.reembed) / rate(r.peer);
    const rss = `${r.peer ? median(r.peer.rss).toFixed(0) : '—'} / ${r.reembed ? median(r.reembed.rss).toFixed(0) : '—'}`;
    const calls = `${r.peer ? fmtInt(median(r.peer.calls)) : '—'} / ${r.reembed ? fmtInt(median(r.reembed.calls)) : '—'}`;
    out.push(
      `| ${[
        r.phase,
        fmtInt(r.peer?.docs ?? r.reembed?.docs ?? Number.NaN),
        msText(r.peer),
        fmtInt(rate(r.peer)),
        msText(r.reembed),
        fmtInt(rate(r.reembed)),
        Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—',
        rss,
        calls,
        verifyText(r.peer),
        verifyText(r.reembed),
      ].join(' | ')} |`,
    );
  }
  return out.join('\n');
}
