import { ReembedError } from '../core/errors.js';
import type { BackfillSettings } from '../core/migration.js';
import { DEFAULT_RETRY } from './retry.js';

export const DEFAULT_BACKFILL: BackfillSettings = Object.freeze({
  batchSize: 128,
  maxBatchTokens: null,
  concurrency: 4,
  requestsPerMinute: null,
  tokensPerMinute: null,
  maxRetries: DEFAULT_RETRY.maxRetries,
  timeoutMs: 60_000,
});

/** Defaults for what is missing; `INVALID_INPUT` naming the setting for a value that cannot work. */
export function resolveSettings(input: Partial<BackfillSettings> = {}): BackfillSettings {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const s: BackfillSettings = { ...DEFAULT_BACKFILL, ...given };
  const positive = (name: keyof BackfillSettings, nullable: boolean): void => {
    const value = s[name];
    if (value === null && nullable) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ReembedError(
        'INVALID_INPUT',
        `Backfill setting ${name} must be a positive number, got ${value}.`,
        {
          details: { field: name, value },
        },
      );
    }
  };
  positive('batchSize', false);
  positive('concurrency', false);
  for (const name of ['maxBatchTokens', 'requestsPerMinute', 'tokensPerMinute', 'timeoutMs'] as const)
    positive(name, true);
  if (!Number.isInteger(s.maxRetries) || s.maxRetries < 0) {
    throw new ReembedError(
      'INVALID_INPUT',
      `Backfill setting maxRetries must be a non-negative integer, got ${s.maxRetries}.`,
      {
        details: { field: 'maxRetries' },
      },
    );
  }
  return Object.freeze({ ...s, batchSize: Math.floor(s.batchSize), concurrency: Math.floor(s.concurrency) });
}
