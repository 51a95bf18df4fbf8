/** A JSON object column (metadata, info, sketches): anything that is not an object reads as `{}`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A JSON column as its value: SQLite returns the text, PostgreSQL's jsonb arrives parsed. */
export function jsonValue<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/**
 * Row `row` of a metadata column kept as JSON text, parsed on first use and kept in `parsed` (the
 * in-memory search copies parse only the rows a filter or a hit reads).
 */
export function parsedObjectAt(
  texts: readonly string[],
  parsed: (Readonly<Record<string, unknown>> | undefined)[],
  row: number,
): Readonly<Record<string, unknown>> {
  let value = parsed[row];
  if (!value) {
    value = parseJsonObject(texts[row] as string);
    parsed[row] = value;
  }
  return value;
}
