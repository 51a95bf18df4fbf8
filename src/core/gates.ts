import { ReembedError } from './errors.js';

/**
 * Gates: rules a cutover must pass, written as small comparisons over named facts.
 *
 * Grammar (hand-written recursive descent, never `eval`):
 * ```
 * rule    := expr op expr                op := >= | > | <= | < | == | !=
 * expr    := term (('+' | '-') term)*
 * term    := unary (('*' | '/') unary)*
 * unary   := '-' unary | primary
 * primary := number ['%'] | name | '(' expr ')'
 * name    := ident ('.' ident | '@' digits)*      e.g. ndcg@10, new.ndcg@10, shadow.overlap@10, coverage
 * ```
 * Names: `old.X` is the old namespace's metric X; `new.X` and an unprefixed `X` mean the new namespace's
 * (looked up as `new.X`, then as plain `X`, so facts such as `coverage` or `shadow.overlap@10` need no
 * prefix). A bare `old` (or `new`) stands for the same metric as the left side, which must then be a
 * single name: `ndcg@10 >= old - 0.01` reads `new.ndcg@10 >= old.ndcg@10 - 0.01`. `95%` is 0.95.
 */

export const GATE_OPERATORS = ['>=', '>', '<=', '<', '==', '!='] as const;
export type GateOperator = (typeof GATE_OPERATORS)[number];

export type GateExpr =
  | { readonly type: 'number'; readonly value: number }
  /** `name` is the resolved fact key without prefix; `side` says which namespace it refers to. */
  | { readonly type: 'metric'; readonly side: 'new' | 'old'; readonly name: string }
  | { readonly type: 'neg'; readonly operand: GateExpr }
  | {
      readonly type: 'binary';
      readonly op: '+' | '-' | '*' | '/';
      readonly left: GateExpr;
      readonly right: GateExpr;
    };

export interface GateRule {
  readonly kind: 'gate-rule';
  readonly source: string;
  readonly left: GateExpr;
  readonly op: GateOperator;
  readonly right: GateExpr;
}

/** A sensible default for migrations: no quality loss beyond one nDCG point, full coverage, no errors. */
export const DEFAULT_GATE_RULES: readonly string[] = Object.freeze([
  'ndcg@10 >= old - 0.01',
  'coverage >= 1.0',
  'errors == 0',
]);

type Token =
  | { readonly t: 'num'; readonly value: number; readonly pos: number }
  | { readonly t: 'name'; readonly value: string; readonly pos: number }
  | { readonly t: 'op'; readonly value: string; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

const NUMBER_RE = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?/y;
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|@\d+)*/y;
const OP_RE = />=|<=|==|!=|[<>+\-*/()]/y;

function parseError(source: string, pos: number, what: string): ReembedError {
  const caret = `${' '.repeat(pos)}^`;
  return new ReembedError(
    'INVALID_INPUT',
    `Gate rule "${source}" does not parse at position ${pos + 1}: ${what}.\n  ${source}\n  ${caret}\n` +
      'Write rules like "ndcg@10 >= old - 0.01", "recall@10 >= 0.6" or "coverage >= 1.0".',
    { details: { rule: source, position: pos + 1 } },
  );
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < source.length) {
    const ch = source[pos] as string;
    if (/\s/.test(ch)) {
      pos++;
      continue;
    }
    let m: RegExpExecArray | null = null;
    for (const [re, t] of [
      [NUMBER_RE, 'num'],
      [NAME_RE, 'name'],
      [OP_RE, 'op'],
    ] as const) {
      re.lastIndex = pos;
      m = re.exec(source);
      if (m) {
        const text = m[0];
        if (t === 'num') {
          const pct = text.endsWith('%');
          const value = Number(pct ? text.slice(0, -1) : text) / (pct ? 100 : 1);
          tokens.push({ t, value, pos });
        } else tokens.push({ t, value: text, pos });
        pos += text.length;
        break;
      }
    }
    if (!m) throw parseError(source, pos, `unexpected character "${ch}"`);
  }
  tokens.push({ t: 'end', pos: source.length });
  return tokens;
}

/** Parses one rule. Throws `INVALID_INPUT` naming the rule and the 1-based position of the problem. */
export function parseGateRule(source: string): GateRule {
  const tokens = tokenize(source);
  let i = 0;
  const peek = (): Token => tokens[i] as Token;
  const describe = (tok: Token): string => (tok.t === 'end' ? 'end of rule' : `"${tok.value}"`);

  // Bare `old` / `new` are resolved after the left side is known; collect them with their positions.
  const bare: { side: 'old' | 'new'; pos: number; node: { name: string } }[] = [];

  const primary = (): GateExpr => {
    const tok = peek();
    if (tok.t === 'num') {
      i++;
      return { type: 'number', value: tok.value };
    }
    if (tok.t === 'name') {
      i++;
      if (tok.value === 'old' || tok.value === 'new') {
        const side: 'old' | 'new' = tok.value === 'old' ? 'old' : 'new';
        const node = { type: 'metric' as const, side, name: '' };
        bare.push({ side, pos: tok.pos, node });
        return node;
      }
      const m = /^(new|old)\.(.+)$/.exec(tok.value);
      return m
        ? { type: 'metric', side: m[1] as 'new' | 'old', name: m[2] as string }
        : { type: 'metric', side: 'new', name: tok.value };
    }
    if (tok.t === 'op' && tok.value === '(') {
      i++;
      const inner = expr();
      const close = peek();
      if (close.t !== 'op' || close.value !== ')')
        throw parseError(source, close.pos, `expected ")" but found ${describe(close)}`);
      i++;
      return inner;
    }
    throw parseError(source, tok.pos, `expected a number, a metric name or "(" but found ${describe(tok)}`);
  };
  const unary = (): GateExpr => {
    const tok = peek();
    if (tok.t === 'op' && tok.value === '-') {
      i++;
      return { type: 'neg', operand: unary() };
    }
    return primary();
  };
  const binaryLevel = (ops: readonly string[], next: () => GateExpr) => (): GateExpr => {
    let left = next();
    for (let tok = peek(); tok.t === 'op' && ops.includes(tok.value); tok = peek()) {
      i++;
      left = { type: 'binary', op: tok.value as '+' | '-' | '*' | '/', left, right: next() };
    }
    return left;
  };
  const term = binaryLevel(['*', '/'], unary);
  const expr = binaryLevel(['+', '-'], term);

  const left = expr();
  const opTok = peek();
  if (opTok.t !== 'op' || !(GATE_OPERATORS as readonly string[]).includes(opTok.value)) {
    throw parseError(
      source,
      opTok.pos,
      `expected a comparison (>=, >, <=, <, ==, !=) but found ${describe(opTok)}`,
    );
  }
  i++;
  const leftBare = bare.length;
  const right = expr();
  const endTok = peek();
  if (endTok.t !== 'end')
    throw parseError(source, endTok.pos, `unexpected ${describe(endTok)} after the rule`);

  if (!hasMetric(left))
    throw parseError(source, 0, 'the left side must name a metric, e.g. "ndcg@10 >= 0.5"');
  for (const [index, b] of bare.entries()) {
    if (index < leftBare)
      throw parseError(source, b.pos, `a bare "${b.side}" may only appear on the right side`);
    if (left.type !== 'metric' || left.name === '') {
      throw parseError(
        source,
        b.pos,
        `a bare "${b.side}" needs a single metric on the left, e.g. "ndcg@10 >= old"`,
      );
    }
    b.node.name = left.name;
  }
  return Object.freeze({ kind: 'gate-rule' as const, source, left, op: opTok.value as GateOperator, right });
}

/** Parses every rule up front (e.g. when a migration is planned), so a typo fails before any work. */
export function parseGateRules(rules: readonly (string | GateRule)[]): GateRule[] {
  return rules.map((r) => (typeof r === 'string' ? parseGateRule(r) : r));
}

function hasMetric(e: GateExpr): boolean {
  switch (e.type) {
    case 'number':
      return false;
    case 'metric':
      return true;
    case 'neg':
      return hasMetric(e.operand);
    case 'binary':
      return hasMetric(e.left) || hasMetric(e.right);
  }
}

export interface GateResult {
  readonly rule: string;
  readonly passed: boolean;
  /** Value of the left side, or `null` when it could not be computed (see `detail`). */
  readonly left: number | null;
  readonly right: number | null;
  /** One line a human can read: the values that decided, or why the rule could not be evaluated. */
  readonly detail: string;
  /** Every fact the rule read, by fact key. */
  readonly facts: Readonly<Record<string, number>>;
}

/** Fact keys a metric reference may be read from, in lookup order. */
export function factKeysOf(ref: { side: 'new' | 'old'; name: string }): string[] {
  return ref.side === 'old' ? [`old.${ref.name}`] : [`new.${ref.name}`, ref.name];
}

class MissingFact extends Error {}

function evaluate(
  e: GateExpr,
  facts: Readonly<Record<string, number>>,
  used: Record<string, number>,
): number {
  switch (e.type) {
    case 'number':
      return e.value;
    case 'metric': {
      const keys = factKeysOf(e);
      const key = keys.find((k) => Object.hasOwn(facts, k));
      if (key === undefined) throw new MissingFact(keys.join(' or '));
      const value = facts[key] as number;
      used[key] = value;
      if (!Number.isFinite(value)) throw new MissingFact(`${key} (value ${value} is not a finite number)`);
      return value;
    }
    case 'neg':
      return -evaluate(e.operand, facts, used);
    case 'binary': {
      const a = evaluate(e.left, facts, used);
      const b = evaluate(e.right, facts, used);
      if (e.op === '+') return a + b;
      if (e.op === '-') return a - b;
      if (e.op === '*') return a * b;
      return a / b;
    }
  }
}

/** Comparisons tolerate float noise (1e-9 relative), so `0.69 >= 0.70 - 0.01` passes as a human expects. */
function compare(a: number, op: GateOperator, b: number): boolean {
  const eps = 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  switch (op) {
    case '>=':
      return a >= b - eps;
    case '>':
      return a > b + eps;
    case '<=':
      return a <= b + eps;
    case '<':
      return a < b - eps;
    case '==':
      return Math.abs(a - b) <= eps;
    case '!=':
      return Math.abs(a - b) > eps;
  }
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(4));

/**
 * Evaluates rules against facts (e.g. from `gateFacts`). Throws only for a rule that does not parse;
 * a fact that is missing or not finite makes that rule fail with a reason naming the known facts.
 *
 * @example
 * evaluateGates(['ndcg@10 >= old - 0.01'], { 'new.ndcg@10': 0.70, 'old.ndcg@10': 0.705 })[0].passed // true
 */
export function evaluateGates(
  rules: readonly (string | GateRule)[],
  facts: Readonly<Record<string, number>>,
): GateResult[] {
  return parseGateRules(rules).map((rule) => {
    const used: Record<string, number> = {};
    let left: number;
    let right: number;
    try {
      left = evaluate(rule.left, facts, used);
      right = evaluate(rule.right, facts, used);
    } catch (error) {
      if (!(error instanceof MissingFact)) throw error;
      const known = Object.keys(facts).sort().join(', ') || '(none)';
      return Object.freeze({
        rule: rule.source,
        passed: false,
        left: null,
        right: null,
        detail: `cannot evaluate: no usable fact ${error.message}; known facts: ${known}`,
        facts: Object.freeze(used),
      });
    }
    if (!Number.isFinite(left) || !Number.isFinite(right)) {
      return Object.freeze({
        rule: rule.source,
        passed: false,
        left: Number.isFinite(left) ? left : null,
        right: Number.isFinite(right) ? right : null,
        detail: `cannot evaluate: the expression is not a finite number (division by zero?)`,
        facts: Object.freeze(used),
      });
    }
    const passed = compare(left, rule.op, right);
    const values = Object.entries(used)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(', ');
    return Object.freeze({
      rule: rule.source,
      passed,
      left,
      right,
      detail: `${fmt(left)} ${rule.op} ${fmt(right)} ${passed ? 'holds' : 'fails'}${values ? ` (${values})` : ''}`,
      facts: Object.freeze(used),
    });
  });
}

/** True when every gate passed (and there was at least one). */
export function allGatesPassed(results: readonly GateResult[]): boolean {
  return results.length > 0 && results.every((r) => r.passed);
}

/**
 * Flattens metric records into gate facts: `{ new: { 'ndcg@10': .7 }, old: {...}, shadow: {...} }` →
 * `{ 'new.ndcg@10': .7, 'old.ndcg@10': ..., 'shadow.overlap@10': ... }`; `extra` facts are copied as-is
 * (e.g. `coverage`, `errors`).
 */
export function gateFacts(input: {
  readonly new?: Readonly<Record<string, number>>;
  readonly old?: Readonly<Record<string, number>>;
  readonly shadow?: Readonly<Record<string, number>>;
  readonly extra?: Readonly<Record<string, number>>;
}): Record<string, number> {
  const facts: Record<string, number> = {};
  for (const prefix of ['new', 'old', 'shadow'] as const) {
    for (const [k, v] of Object.entries(input[prefix] ?? {})) facts[`${prefix}.${k}`] = v;
  }
  return Object.assign(facts, input.extra ?? {});
}
