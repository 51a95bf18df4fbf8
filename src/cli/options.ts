import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../core/migration.js';
import type { SearchFilter } from '../core/records.js';
import type { ChunkerSpec } from '../core/space.js';

/**
 * Parsers for option values, used as commander argParsers: a bad value is a usage error
 * (`InvalidArgumentError` → exit 2 with the command's help), reported before anything is opened.
 */

/** `--dimension 256` → 256; refuses fractions, signs and junk (`256x`). */
export function integerOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}".`);
    }
    return n;
  };
}

export function numberOption(min: number): (value: string) => number {
  return (value) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`expected a number ≥ ${min}, got "${value}".`);
    return n;
  };
}

/** A commander parser of a duration (`90s`, `1h`, `7d`) to milliseconds. */
export function durationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** `none`, `tokens:256:32` (size, overlap) or `chars:1000:100`; the overlap is optional (default 0). */
export function parseChunker(value: string): ChunkerSpec {
  if (value === 'none') return { kind: 'none' };
  const match = /^(tokens|chars):(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!match) {
    throw new InvalidArgumentError(
      `expected "none", "tokens:SIZE[:OVERLAP]" or "chars:SIZE[:OVERLAP]", got "${value}".`,
    );
  }
  const size = Number(match[2]);
  const overlap = match[3] === undefined ? 0 : Number(match[3]);
  if (size < 1 || overlap >= size) {
    throw new InvalidArgumentError(
      `chunk size must be ≥ 1 and overlap smaller than the size, got "${value}".`,
    );
  }
  return { kind: match[1] as 'tokens' | 'chars', size, overlap };
}

/**
 * `key=value` → [key, value] where the value is JSON when it parses (`5`, `true`, `"5"`, `[1,2]`) and the
 * raw string otherwise, so `lang=en` and `year=2024` both do what a user expects.
 */
export function parseKeyValue(value: string): [string, unknown] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}".`);
  const key = value.slice(0, eq).trim();
  const raw = value.slice(eq + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

/** Collects a repeatable `key=value` option into an object. */
export function collectKeyValues(
  value: string,
  previous: Record<string, unknown> = {},
): Record<string, unknown> {
  const [key, parsed] = parseKeyValue(value);
  return { ...previous, [key]: parsed };
}

type FilterValue = string | number | boolean | { $in: (string | number | boolean)[] };

/**
 * Builds a search filter from `--tenant` and `--filter key=value` pairs; a list value
 * (`--filter lang=["en","de"]`) means "any of".
 */
export function searchFilter(
  tenant: unknown,
  pairs: Readonly<Record<string, unknown>> | undefined,
): SearchFilter | undefined {
  const metadata: Record<string, FilterValue> = {};
  for (const [key, value] of Object.entries(pairs ?? {})) {
    if (Array.isArray(value) && value.every(isScalar)) metadata[key] = { $in: value };
    else if (isScalar(value)) metadata[key] = value;
    else
      throw new InvalidArgumentError(
        `--filter ${key}: expected a string, number, boolean or a list of them.`,
      );
  }
  const hasMetadata = Object.keys(metadata).length > 0;
  if (typeof tenant !== 'string' && !hasMetadata) return undefined;
  return {
    ...(typeof tenant === 'string' ? { tenant } : {}),
    ...(hasMetadata ? { metadata } : {}),
  };
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * `--reason <text>`, declared once for every audited change that takes one (the handler's `reason`:
 * `defined({ reason: stringOf(o.reason) })`).
 */
export function reasonOption(help = 'why (written to the audit log)'): Option {
  return new Option('--reason <text>', help);
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * A numeric setting given as an option: its flags, help and parser, and the key of the setting it fills
 * (default: the option's name, `--batch-size` → `batchSize`). A table of them declares the options
 * (`addSettingOptions`) and reads them back (`settingsOf`), so a setting is written once.
 */
export interface SettingOption {
  readonly flags: string;
  readonly help: string;
  readonly parse: (value: string) => number;
  readonly key: string;
}

/** `setting('--rate-limit <rpm>', 'requests per minute', numberOption(0.001), 'requestsPerMinute')`. */
export function setting(
  flags: string,
  help: string,
  parse: (value: string) => number,
  key?: string,
): SettingOption {
  return { flags, help, parse, key: key ?? new Option(flags).attributeName() };
}

/** Declares each setting as an option of `command`, in the table's order. */
export function addSettingOptions(command: Command, settings: readonly SettingOption[]): Command {
  for (const s of settings) command.option(s.flags, s.help, s.parse);
  return command;
}

/** The settings given on the command line, by key (the others absent). */
export function settingsOf(
  options: Readonly<Record<string, unknown>>,
  settings: readonly SettingOption[],
): Record<string, number> {
  const given: Record<string, number> = {};
  for (const s of settings) {
    const value = options[new Option(s.flags).attributeName()];
    if (typeof value === 'number') given[s.key] = value;
  }
  return given;
}
