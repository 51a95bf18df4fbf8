/**
 * `timestamptz` arrives as a Date from `pg`, or as PostgreSQL's ISO text where a query selects it as
 * text (`isoText`); the domain uses ISO-8601 strings with milliseconds, as `Date#toISOString` writes them.
 */
export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? isoText(value) : String(value);
}

/** `YYYY-MM-DD HH:MM:SS[.fraction]±HH[:MM[:SS]]`, a timestamptz in PostgreSQL's ISO output (DateStyle ISO, which `pg` assumes too). */
const PG_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;

/**
 * A timestamptz's ISO text from PostgreSQL as an ISO-8601 UTC instant with milliseconds (a fraction is
 * truncated to milliseconds, as `pg`'s Date would). The common case — a UTC session — is string slicing;
 * other offsets are converted; a string in no known form is returned unchanged.
 * `isoText('2026-11-22 05:02:10.12+00')` → `'2026-11-22T05:02:10.120Z'`.
 */
export function isoText(text: string): string {
  const n = text.length;
  // Already ISO-8601 UTC (SQLite stores instants as `Date#toISOString` wrote them).
  if (n >= 20 && text.charCodeAt(10) === 84 && text.charCodeAt(n - 1) === 90) return text;
  if (n >= 22 && text.charCodeAt(10) === 32 && text.endsWith('+00')) {
    const fraction = text.slice(19, n - 3);
    if (fraction === '') return `${text.slice(0, 10)}T${text.slice(11, 19)}.000Z`;
    if (/^\.\d+$/.test(fraction)) {
      return `${text.slice(0, 10)}T${text.slice(11, 19)}${`${fraction}00`.slice(0, 4)}Z`;
    }
  }
  const m = PG_TIMESTAMP.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(`${fraction ?? ''}00`.slice(0, 3)));
  const offsetMs = (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0)) * 1000;
  date.setTime(date.getTime() - (sign === '-' ? -offsetMs : offsetMs));
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}
