/** The largest request body `reembed serve` accepts unless `--max-body` says otherwise (8 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
