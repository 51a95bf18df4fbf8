import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  addSettingOptions,
  integerOption,
  numberOption,
  setting,
  settingsOf,
} from '../../src/cli/options.js';

/** Settings declared once as a table: the options they declare and the values they read back. */
describe('setting options', () => {
  const SETTINGS = [
    setting('--batch-size <n>', 'documents per batch', integerOption(1, 100)),
    setting('--rate-limit <rpm>', 'requests per minute', numberOption(0.001), 'requestsPerMinute'),
    setting('--timeout-ms <ms>', 'per-call timeout', integerOption(1)),
  ];
  const parse = (argv: string[]): Record<string, unknown> => {
    const command = addSettingOptions(new Command('t').exitOverride(), SETTINGS);
    return command.parse(argv, { from: 'user' }).opts();
  };

  it('declares one option per setting, in order, with its help', () => {
    const command = addSettingOptions(new Command('t'), SETTINGS);
    expect(command.options.map((o) => [o.flags, o.description])).toEqual([
      ['--batch-size <n>', 'documents per batch'],
      ['--rate-limit <rpm>', 'requests per minute'],
      ['--timeout-ms <ms>', 'per-call timeout'],
    ]);
  });

  it('reads the given ones back under their keys, parsed, and leaves the others out', () => {
    expect(settingsOf(parse(['--rate-limit', '90.5', '--batch-size', '7']), SETTINGS)).toEqual({
      batchSize: 7,
      requestsPerMinute: 90.5,
    });
    expect(settingsOf(parse([]), SETTINGS)).toEqual({});
  });

  it('refuses a bad value through the setting parser, as a usage error', () => {
    expect(() => parse(['--batch-size', '0'])).toThrow(/expected an integer from 1 to 100, got "0"/);
    expect(() => parse(['--rate-limit', 'fast'])).toThrow(/expected a number ≥ 0.001, got "fast"/);
  });
});
