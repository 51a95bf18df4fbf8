import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderBenchmarks } from '../../bench/markdown.js';
import { BENCHMARKS } from '../../bench/registry.js';
import type { BenchSummary } from '../../bench/run.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Result names a benchmark's committed JSON files use (bench/results/<name>.json). */
const COMMITTED: Record<string, string[]> = {
  ingest: ['ingest'],
  search: ['search'],
  'provider-rate': ['provider-rate'],
  scaling: ['scaling'],
  'ann-100k': ['ann-100k'],
  'ann-1m': ['ann-1m'],
  'ann-reachability': ['ann-reachability'],
  vectors: ['vectors'],
  safety: ['safety'],
  backfill: ['backfill'],
  'reader-thread': ['reader-thread'],
  quality: ['quality'],
  'peer-langchain': ['peer'],
  'pg-backfill': ['pg-backfill'],
  'pg-workers': ['pg-workers'],
  'pg-hnsw': ['pg-hnsw'],
  'pg-backfill-parts': ['pg-backfill-parts'],
  'pg-runner-profile': ['pg-runner-profile'],
  'pg-search-many': ['pg-search-many'],
  startup: ['startup'],
  // Its registry run (1M) has not completed; the committed 100k run is migration-scale-100k.json.
  'migration-1m': [],
};

describe('bench registry (npm run bench)', () => {
  it('lists every benchmark script under bench/ once, with arguments for every mode', () => {
    const ids = BENCHMARKS.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const b of BENCHMARKS) {
      expect(existsSync(join(ROOT, b.script)), b.script).toBe(true);
      for (const mode of ['full', 'quick', 'smoke'] as const) {
        expect(b.runs[mode]).toBeGreaterThanOrEqual(1);
        expect(b.timeout[mode]).toBeGreaterThan(0);
        for (const arg of b.args[mode]) expect(arg).toMatch(/^--[\w-]+(=.*)?$/);
      }
    }
    expect(Object.keys(COMMITTED).sort()).toEqual([...ids].sort());
  });

  it('reads its figures from every committed result, and those pass the checks', () => {
    let read = 0;
    for (const b of BENCHMARKS) {
      const results: Record<string, unknown> = {};
      for (const name of COMMITTED[b.id] ?? []) {
        const path = join(ROOT, 'bench', 'results', `${name}.json`);
        if (existsSync(path)) results[name] = JSON.parse(readFileSync(path, 'utf8'));
      }
      if (Object.keys(results).length === 0) continue;
      read++;
      const metrics = b.metrics(results);
      expect(metrics.length, b.id).toBeGreaterThan(0);
      for (const m of metrics) expect(m.values.every(Number.isFinite), `${b.id}: ${m.name}`).toBe(true);
      expect(b.check(results), b.id).toEqual([]);
    }
    expect(read).toBeGreaterThan(5);
  });
});

describe('BENCHMARKS.md generation', () => {
  const summary: BenchSummary = {
    id: 'ingest',
    title: 'Ingest',
    status: 'ok',
    reason: null,
    mode: 'full',
    command: 'node --import tsx bench/ingest.ts --runs=5',
    processes: 1,
    seconds: 12,
    at: '2026-12-06T10:00:00.000Z',
    loadAverage: [1.5, 1, 1],
    figures: [
      {
        name: 'ingest',
        unit: 'docs/s',
        better: 'higher',
        goal: '>= 20,000',
        median: 21_508,
        min: 19_446,
        max: 22_606,
        samples: 5,
      },
    ],
    problems: [],
  };

  it('replaces only what is between the markers', () => {
    const doc = [
      '# Benchmarks',
      'hand-written analysis stays',
      '<!-- bench:begin ingest -->',
      'old table',
      '<!-- bench:end ingest -->',
      'more prose',
      '<!-- bench:begin all -->',
      '<!-- bench:end all -->',
      '<!-- bench:begin search -->',
      '<!-- bench:end search -->',
    ].join('\n');
    const out = renderBenchmarks(doc, [summary]);
    expect(out).toContain('hand-written analysis stays\n<!-- bench:begin ingest -->\n| figure |');
    expect(out).toContain('| ingest (docs/s) | 21,508 | 19,446 | 22,606 | 5 | >= 20,000 |');
    expect(out).not.toContain('old table');
    expect(out).toContain('more prose');
    expect(out).toContain('#### ingest — Ingest');
    expect(out).toContain('_search: not measured yet._');
    // Rendering twice gives the same document: the markers survive.
    expect(renderBenchmarks(out, [summary])).toBe(out);
  });

  it('refuses a document whose markers do not pair up, instead of writing half of it', () => {
    expect(() => renderBenchmarks('<!-- bench:begin all -->\nno end', [summary])).toThrow(/no matching end/);
    expect(() => renderBenchmarks('no markers', [summary])).toThrow(/no `<!-- bench:begin all -->`/);
  });
});
