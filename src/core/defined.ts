/**
 * `fields` without its undefined members: for options objects whose absent fields mean "the default", so a
 * callee that spreads defaults under them (`{ ...defaults, ...options }`) never sees an explicit undefined.
 * Replaces one `...(x !== undefined ? { x } : {})` spread per field.
 *
 * @example
 * loadGoldenSet(ref, defined({ split: options.split, name: options.saveAs }));
 */
export function defined<T extends object>(fields: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as T;
}
