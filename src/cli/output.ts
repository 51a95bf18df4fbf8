/**
 * Everything the CLI prints goes through `Output`: results to stdout (aligned tables and short lines for
 * humans, one JSON document for machines with `--json`), notes and errors to stderr. Commands never
 * write to `process.stdout` themselves, so the whole CLI runs in-process in tests.
 */
export interface TextSink {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => unknown;
  readonly align?: 'left' | 'right';
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI colour codes is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

function ansiStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
  };
}

/** Formats a number for a table cell: integers as is, other values with `digits` decimals. */
export function num(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** Renders rows as an aligned plain-text table (header, rule, rows). */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((c) => cellText(c.value(row))));
  const widths = columns.map((c, i) =>
    Math.max(visibleLength(c.header), ...cells.map((r) => visibleLength(r[i] ?? ''))),
  );
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat((widths[i] as number) - visibleLength(text));
    return columns[i]?.align === 'right' ? gap + text : text + gap;
  };
  const lines = [
    columns.map((c, i) => pad(c.header, i)).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) => r.map((text, i) => pad(text, i)).join('  ')),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return num(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export interface OutputOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  /** ANSI colours on stderr (default: stderr is a TTY and `NO_COLOR` is unset). */
  readonly color?: boolean;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Styles for stdout text (plain unless stdout is a terminal). */
  readonly style: Style;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  readonly #errorStyle: Style;

  constructor(stdout: TextSink, stderr: TextSink, options: OutputOptions) {
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.json = options.json;
    this.quiet = options.quiet;
    const color = options.color ?? true;
    this.style = ansiStyle(color && stdout.isTTY === true);
    this.#errorStyle = ansiStyle(color && stderr.isTTY === true);
  }

  /**
   * Prints a command's result: with `--json` the value as one JSON document, otherwise whatever `human`
   * prints. Commands call this exactly once, so `--json` output is always a single document.
   */
  result(value: unknown, human: () => void): void {
    if (this.json) this.#stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    else human();
  }

  /** A line of human output on stdout (never printed in `--json` mode). */
  line(text = ''): void {
    if (!this.json) this.#stdout.write(`${text}\n`);
  }

  /** An aligned table of `rows`; with `empty`, that line instead when there are no rows (say what to run). */
  table<Row>(columns: readonly Column<Row>[], rows: readonly Row[], empty?: string): void {
    this.line(rows.length === 0 && empty !== undefined ? empty : formatTable(columns, rows));
  }

  /** A progress note on stderr, for humans only: silent with `--quiet` or `--json`. */
  note(text: string): void {
    if (!this.quiet && !this.json) this.#stderr.write(`${this.#errorStyle.dim(text)}\n`);
  }

  warn(text: string): void {
    if (!this.json) this.#stderr.write(`${this.#errorStyle.yellow(`warning: ${text}`)}\n`);
  }

  /** The one-line error of a failed command: `error CODE: message` (red on a terminal), or the JSON shape. */
  error(code: string, message: string): void {
    if (this.json) {
      this.#stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
      return;
    }
    const oneLine = message.replace(/\s*\n\s*/g, ' ');
    this.#stderr.write(`${this.#errorStyle.red(`error ${code}: ${oneLine}`)}\n`);
  }
}

/** Typed arrays print as plain arrays; `Map`s as objects. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as Float32Array);
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}
