import { describe, expect, it } from 'vitest';
import { ReembedError } from './errors.js';
import { allGatesPassed, DEFAULT_GATE_RULES, evaluateGates, gateFacts, parseGateRule } from './gates.js';

function parseErrorOf(rule: string): ReembedError {
  try {
    parseGateRule(rule);
  } catch (e) {
    if (e instanceof ReembedError) return e;
    throw e;
  }
  throw new Error(`"${rule}" parsed`);
}

const facts = {
  'new.ndcg@10': 0.69,
  'old.ndcg@10': 0.7,
  'new.recall@10': 0.65,
  'old.recall@10': 0.7,
  'new.mrr@10': 0.5,
  'old.mrr@10': 0.5,
  coverage: 1,
  errors: 0,
  'shadow.overlap@10': 0.72,
};

const one = (rule: string, f: Record<string, number> = facts) => evaluateGates([rule], f)[0]!;

describe('parseGateRule', () => {
  it('parses the documented forms', () => {
    expect(parseGateRule('ndcg@10 >= old - 0.01')).toMatchObject({
      op: '>=',
      left: { type: 'metric', side: 'new', name: 'ndcg@10' },
      right: {
        type: 'binary',
        op: '-',
        left: { type: 'metric', side: 'old', name: 'ndcg@10' },
        right: { type: 'number', value: 0.01 },
      },
    });
    expect(parseGateRule('new.ndcg@10 >= old.ndcg@10 * 0.98').right).toMatchObject({
      type: 'binary',
      op: '*',
    });
    expect(parseGateRule('shadow.overlap@10 >= 0.6').left).toEqual({
      type: 'metric',
      side: 'new',
      name: 'shadow.overlap@10',
    });
    expect(parseGateRule('coverage >= 100%').right).toEqual({ type: 'number', value: 1 });
    expect(parseGateRule('errors==0').op).toBe('==');
  });

  it('respects precedence and parentheses', () => {
    expect(one('coverage == 1 + 2 * 3 - 6').passed).toBe(true);
    expect(one('coverage == (1 + 2) * 3 - 8').passed).toBe(true);
    expect(one('coverage == -(-1)').passed).toBe(true);
    expect(one('coverage == 2 / 2').passed).toBe(true);
  });

  it('names the rule and the 1-based position of a syntax error', () => {
    const cases: [string, number, RegExp][] = [
      ['ndcg@10 >= ', 12, /end of rule/],
      ['ndcg@10 => 0.5', 9, /unexpected character "="/],
      ['ndcg@10 >= * 0.5', 12, /expected a number, a metric name or "\(" but found "\*"/],
      ['ndcg@10 0.5', 9, /expected a comparison/],
      ['ndcg@10 >= 0.5 0.6', 16, /unexpected "0.6"/],
      ['ndcg@10 >= (old - 0.01', 23, /expected "\)"/],
      ['ndcg@10 >= $old', 12, /unexpected character "\$"/],
      ['ndcg@10 = 0.5', 9, /unexpected character "="/],
      ['0.5 <= 0.6', 1, /left side must name a metric/],
      ['old >= ndcg@10', 1, /bare "old" may only appear on the right/],
      ['ndcg@10 + recall@10 >= old', 24, /needs a single metric on the left/],
    ];
    for (const [rule, position, pattern] of cases) {
      const e = parseErrorOf(rule);
      expect(e.code, rule).toBe('INVALID_INPUT');
      expect(e.message, rule).toContain(`"${rule}"`);
      expect(e.details.position, rule).toBe(position);
      expect(e.message, rule).toMatch(pattern);
    }
  });
});

describe('evaluateGates', () => {
  it('evaluates each documented rule', () => {
    expect(one('ndcg@10 >= old - 0.01')).toMatchObject({ passed: true, left: 0.69, right: 0.69 });
    expect(one('recall@10 >= 0.6').passed).toBe(true);
    expect(one('recall@10 >= old - 0.01').passed).toBe(false);
    expect(one('coverage >= 1.0').passed).toBe(true);
    expect(one('shadow.overlap@10 >= 0.75').passed).toBe(false);
    expect(one('errors == 0').passed).toBe(true);
    expect(one('mrr@10 > old').passed).toBe(false);
    expect(one('mrr@10 >= old').passed).toBe(true);
    expect(one('mrr@10 != old').passed).toBe(false);
    expect(one('new.ndcg@10 >= old.ndcg@10 * 0.98').passed).toBe(true);
    expect(one('new.ndcg@10 >= old.ndcg@10 * 0.99').passed).toBe(false);
    expect(one('new.ndcg@10 - old.ndcg@10 >= -0.01').passed).toBe(true);
  });

  it('explains the decision with the facts it read', () => {
    const r = one('ndcg@10 >= old - 0.01');
    expect(r.facts).toEqual({ 'new.ndcg@10': 0.69, 'old.ndcg@10': 0.7 });
    expect(r.detail).toContain('holds');
    expect(r.detail).toContain('old.ndcg@10=0.7000');
    expect(one('recall@10 >= 0.9').detail).toContain('fails');
  });

  it('fails (without throwing) on an unknown or non-finite fact', () => {
    const r = one('ndcg@100 >= old');
    expect(r).toMatchObject({ passed: false, left: null, right: null });
    expect(r.detail).toContain('new.ndcg@100 or ndcg@100');
    expect(r.detail).toContain('known facts: coverage, errors');
    expect(one('coverage >= 0.5', { coverage: Number.NaN }).detail).toContain('not a finite number');
    expect(one('coverage >= 1 / 0', { coverage: 1 }).passed).toBe(false);
  });

  it('throws INVALID_INPUT when any rule does not parse', () => {
    expect(() => evaluateGates(['coverage >= 1', 'ndcg@10 >>= 1'], facts)).toThrow(/position 10/);
  });

  it('allGatesPassed needs at least one rule and all passing', () => {
    expect(allGatesPassed(evaluateGates(DEFAULT_GATE_RULES, facts))).toBe(true);
    expect(allGatesPassed(evaluateGates([...DEFAULT_GATE_RULES, 'recall@10 >= 0.9'], facts))).toBe(false);
    expect(allGatesPassed([])).toBe(false);
  });

  it('gateFacts flattens evaluations into prefixed facts', () => {
    const f = gateFacts({
      new: { 'ndcg@10': 0.6 },
      old: { 'ndcg@10': 0.61 },
      shadow: { 'overlap@10': 0.8 },
      extra: { coverage: 1, errors: 0 },
    });
    expect(f).toEqual({
      'new.ndcg@10': 0.6,
      'old.ndcg@10': 0.61,
      'shadow.overlap@10': 0.8,
      coverage: 1,
      errors: 0,
    });
    expect(one('ndcg@10 >= old - 0.01', f).passed).toBe(true);
    expect(one('shadow.overlap@10 >= 0.6', f).passed).toBe(true);
  });
});
