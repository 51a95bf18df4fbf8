import type { z } from 'zod';
import { ReembedError } from '../../core/errors.js';

/**
 * A backend's options parsed by its zod schema (defaults filled in), or `INVALID_SPEC` naming every bad
 * field: `Invalid LanceDB store options: optimizeEvery: Number must be greater than or equal to 1.`
 */
export function parseOptions<S extends z.ZodTypeAny>(what: string, schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ReembedError('INVALID_SPEC', `Invalid ${what}: ${issues.join('; ')}.`, { details: { issues } });
}
