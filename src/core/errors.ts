/**
 * The catalog of stable error codes. Codes never change meaning; messages say what to do.
 * Mapped to CLI exit codes and HTTP statuses only at the edges (see `exitCodeFor`, `httpStatusFor`).
 */
export const ERROR_CODES = [
  'SPACE_MISMATCH',
  'DIMENSION_MISMATCH',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'INVALID_VECTOR',
  'INVALID_INPUT',
  'INVALID_SPEC',
  'INVALID_STATE',
  'INVALID_TRANSITION',
  'GATE_FAILED',
  /** The collection cannot give a meaningful probe set (too few documents, or too few usable texts). */
  'PROBE_UNAVAILABLE',
  'EMBEDDER_FAILED',
  'EMBEDDER_TRANSIENT',
  'RATE_LIMITED',
  'STORE_FAILED',
  'UNSUPPORTED',
  'CONFLICT',
  'ABORTED',
  /** A file's checksum or a package's integrity differs from what its manifest records. */
  'INTEGRITY_FAILED',
  /** A stored-vectors provider holds no vector for this text or id (and has no live model to ask). */
  'NOT_HELD',
  /** An optional package a provider needs is not installed; the message names it. */
  'DEPENDENCY_MISSING',
  /** Invariant 9: a derived (bridged) vector may not enter a native namespace, nor a model's vector a derived one. */
  'DERIVED_VECTOR_REFUSED',
  /** The HTTP server got no valid API key (missing, malformed, unknown or revoked). */
  'UNAUTHORIZED',
  /** The API key is valid but its scope or tenant does not allow this request. */
  'FORBIDDEN',
  /** A request body larger than the server accepts. */
  'TOO_LARGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ReembedErrorOptions {
  readonly cause?: unknown;
  /** Structured details for machines (e.g. both fingerprints of a mismatch, the failing line). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Marks a `ReembedError` under a registered symbol, so every copy of this module recognises it. */
const BRAND: unique symbol = Symbol.for('reembed.ReembedError');

/** The one error class of reembed: a stable `code`, an actionable message, optional `details` and `cause`. */
export class ReembedError extends Error {
  /**
   * `error instanceof ReembedError` holds for an error built by any copy of this module, not only this
   * one: the CLI's start-up bundle (dist/cli/launch.cjs) carries its own copy beside the command modules
   * in dist/, and an application can end up with two installs of reembed. It checks the registered brand
   * instead of the prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  get [BRAND](): true {
    return true;
  }

  constructor(code: ErrorCode, message: string, options: ReembedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReembedError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isReembedError(value: unknown, code?: ErrorCode): value is ReembedError {
  return value instanceof ReembedError && (code === undefined || value.code === code);
}

export function reembedError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): ReembedError {
  return new ReembedError(code, message, { details: details ?? {}, cause });
}

const EXIT_CODES: Record<ErrorCode, number> = {
  SPACE_MISMATCH: 3,
  DIMENSION_MISMATCH: 3,
  NOT_FOUND: 4,
  ALREADY_EXISTS: 5,
  INVALID_VECTOR: 2,
  INVALID_INPUT: 2,
  INVALID_SPEC: 2,
  INVALID_STATE: 6,
  INVALID_TRANSITION: 6,
  GATE_FAILED: 7,
  PROBE_UNAVAILABLE: 2,
  EMBEDDER_FAILED: 8,
  EMBEDDER_TRANSIENT: 8,
  RATE_LIMITED: 8,
  STORE_FAILED: 9,
  UNSUPPORTED: 10,
  CONFLICT: 5,
  ABORTED: 130,
  INTEGRITY_FAILED: 12,
  NOT_HELD: 4,
  DEPENDENCY_MISSING: 10,
  DERIVED_VECTOR_REFUSED: 3,
  UNAUTHORIZED: 13,
  FORBIDDEN: 13,
  TOO_LARGE: 2,
};

export function exitCodeFor(error: unknown): number {
  return error instanceof ReembedError ? EXIT_CODES[error.code] : 1;
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  SPACE_MISMATCH: 409,
  DIMENSION_MISMATCH: 409,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_VECTOR: 400,
  INVALID_INPUT: 400,
  INVALID_SPEC: 400,
  INVALID_STATE: 409,
  INVALID_TRANSITION: 409,
  GATE_FAILED: 412,
  PROBE_UNAVAILABLE: 422,
  EMBEDDER_FAILED: 502,
  EMBEDDER_TRANSIENT: 503,
  RATE_LIMITED: 429,
  STORE_FAILED: 500,
  UNSUPPORTED: 501,
  CONFLICT: 409,
  ABORTED: 499,
  INTEGRITY_FAILED: 500,
  NOT_HELD: 404,
  DEPENDENCY_MISSING: 501,
  DERIVED_VECTOR_REFUSED: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_LARGE: 413,
};

export function httpStatusFor(error: unknown): number {
  return error instanceof ReembedError ? HTTP_STATUS[error.code] : 500;
}

/** Turns anything thrown into the `{ error: { code, message } }` shape printed by `--json` and the API. */
export function errorBody(error: unknown): { error: { code: string; message: string; details?: unknown } } {
  if (error instanceof ReembedError) {
    return { error: { code: error.code, message: error.message, details: error.details } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: { code: 'INTERNAL', message } };
}
