import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom as mulberry32 } from '../core/random.js';
import { estimateTokens } from '../embedders/openai-tokens.js';
import { buildBody, type Fault, type FaultPlan, shorten } from './openai-server-faults.js';
import {
  latencyFor,
  type ServerLatency,
  ServerLimiter,
  type ServerRateLimits,
} from './openai-server-limits.js';

export type { Fault, FaultPlan } from './openai-server-faults.js';
export type { ServerLatency, ServerRateLimits } from './openai-server-limits.js';

/**
 * A real OpenAI-compatible embeddings server on 127.0.0.1 for tests and demos: it embeds with a local
 * deterministic function (plug in the hashing embedder), checks the key, records every request, and
 * injects faults by script or by rate, so remote-embedder behaviour (retries, validation, ordering,
 * concurrency) is tested over real HTTP without any vendor account.
 *
 * Routes: `POST /v1/embeddings` (also `/embeddings`), Azure-style
 * `POST /openai/deployments/{deployment}/embeddings?api-version=…`, and `GET /v1/models`.
 *
 * @example
 * const server = await startOpenAICompatibleServer({ embed: (t) => hashing.embedOne(t), apiKey: 'sk-test' });
 * // baseUrl: server.url  (http://127.0.0.1:PORT/v1)
 * server.setFaults({ script: [{ kind: 'status', status: 429, headers: { 'retry-after': '2' } }] });
 * await server.close();
 */
export type EmbedFunction = (
  text: string,
  context: { readonly model: string },
) => Float32Array | readonly number[];

export interface OpenAICompatibleServerOptions {
  readonly embed: EmbedFunction;
  /** When set, requests must carry `Authorization: Bearer <key>` or `api-key: <key>`; others get 401. */
  readonly apiKey?: string;
  /** Accepted model names (default: any). Others get 404 `model_not_found`. */
  readonly models?: readonly string[];
  /** More inputs per request get 413, like TEI's `max-client-batch-size`. */
  readonly maxBatchSize?: number;
  /** Added to every embeddings response, so tests can observe concurrency. */
  readonly latencyMs?: number;
  /**
   * A realistic per-request latency (base + per token, with seeded jitter), applied to admitted requests
   * in addition to `latencyMs`.
   */
  readonly latency?: ServerLatency;
  /**
   * Requests and tokens per window (default window: one minute), enforced like OpenAI: 429 with
   * `retry-after` past a limit, `x-ratelimit-*` headers on every embeddings response.
   */
  readonly rateLimits?: ServerRateLimits;
  readonly faults?: FaultPlan;
  /** The 401 body quotes the presented key, as careless providers do; lets tests prove the client redacts it. */
  readonly leakKeyInErrors?: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Request headers; credential values are replaced by `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: 'bearer' | 'api-key' | 'none';
  readonly authorized: boolean;
  readonly body: unknown;
  readonly inputs: readonly string[];
  readonly model: string | null;
  readonly deployment: string | null;
  readonly fault: Fault | null;
  /** Requests being handled when this one arrived, this one included. */
  readonly inFlightAtStart: number;
  readonly receivedAt: number;
  /** Status sent, or 0 when the socket was reset / the client went away first. */
  status: number;
}

export interface OpenAICompatibleServer {
  /** Base URL for OpenAI-style clients: `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, the `baseUrl` for Azure-style clients. */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Highest number of embeddings requests handled at once. */
  readonly maxInFlight: number;
  /** Admitted / refused requests and admitted tokens under `rateLimits` (all zero without limits). */
  readonly rateLimited: { readonly admitted: number; readonly refused: number; readonly tokens: number };
  setFaults(plan: FaultPlan): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/embeddings$/;

export async function startOpenAICompatibleServer(
  options: OpenAICompatibleServerOptions,
): Promise<OpenAICompatibleServer> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let script: (Fault | null)[] = [];
  let rate: FaultPlan['rate'] | undefined;
  let random = mulberry32(0);
  let inFlight = 0;
  let maxInFlight = 0;
  const limiter = options.rateLimits ? new ServerLimiter(options.rateLimits, Date.now()) : null;
  const latencyRandom = mulberry32(7);
  const setFaults = (plan: FaultPlan): void => {
    script = [...(plan.script ?? [])];
    rate = plan.rate;
    random = mulberry32(plan.rate?.seed ?? 0);
  };
  setFaults(options.faults ?? {});
  const nextFault = (): Fault | null => {
    if (script.length > 0) return script.shift() ?? null;
    if (!rate || rate.faults.length === 0 || random() >= rate.probability) return null;
    return rate.faults[Math.floor(random() * rate.faults.length)] ?? null;
  };
  const wait = (ms: number, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(!res.destroyed);
      }, ms);
      timers.add(timer);
      res.once('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      });
    });

  const handleEmbeddings = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    deployment: string | null,
  ) => {
    const raw = await readBody(req);
    const presented = presentedKey(req);
    const authorized = options.apiKey === undefined || presented.key === options.apiKey;
    let body: unknown;
    try {
      body = raw === null ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const inputs =
      typeof b.input === 'string' ? [b.input] : Array.isArray(b.input) ? (b.input as string[]) : [];
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: redactHeaders(req),
      auth: presented.via,
      authorized,
      body,
      inputs,
      model: typeof b.model === 'string' ? b.model : null,
      deployment,
      fault: null,
      inFlightAtStart: inFlight,
      receivedAt: Date.now(),
      status: 0,
    };
    requests.push(record);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    if (raw === null) return sendError(res, 413, 'Request body too large.', 'invalid_request_error');
    if (!authorized) {
      const quoted = options.leakKeyInErrors && presented.key ? `: ${presented.key}` : '';
      return sendError(
        res,
        401,
        `Incorrect API key provided${quoted}.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    const problem = validateRequest(body, inputs, deployment, url, options);
    if (problem)
      return sendError(res, problem.status, problem.message, 'invalid_request_error', problem.code);
    const model = deployment ?? (b.model as string);
    if (options.models && !options.models.includes(model)) {
      return sendError(
        res,
        404,
        `The model '${model}' does not exist.`,
        'invalid_request_error',
        'model_not_found',
      );
    }
    const decision = limiter?.decide(inputs, Date.now());
    if (decision) for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (decision && !decision.admitted) {
      return sendError(
        res,
        429,
        `Rate limit reached for ${model} on ${decision.limit} per ${windowLabel(options.rateLimits)}: Limit ${decision.headers[`x-ratelimit-limit-${decision.limit}`]}. Please try again in ${decision.retryAfterMs}ms.`,
        'rate_limit_error',
        'rate_limit_exceeded',
      );
    }
    const fault = nextFault();
    (record as { fault: Fault | null }).fault = fault;
    if (options.latencyMs && !(await wait(options.latencyMs, res))) return;
    if (options.latency) {
      const tokens = decision?.tokens ?? inputs.reduce((n, t) => n + estimateTokens(t), 0);
      if (!(await wait(latencyFor(options.latency, tokens, latencyRandom), res))) return;
    }
    if (fault?.kind === 'delay' && !(await wait(fault.ms, res))) return;
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'status') {
      for (const [name, value] of Object.entries(fault.headers ?? {})) res.setHeader(name, value);
      return sendError(
        res,
        fault.status,
        fault.message ?? defaultMessage(fault.status),
        errorType(fault.status),
      );
    }
    const dimensions = typeof b.dimensions === 'number' ? b.dimensions : null;
    let vectors: number[][];
    try {
      vectors = inputs.map((text) => shorten(Array.from(options.embed(text, { model })), dimensions));
    } catch (error) {
      return sendError(
        res,
        400,
        error instanceof Error ? error.message : String(error),
        'invalid_request_error',
      );
    }
    const base64 = b.encoding_format === 'base64';
    send(res, 200, buildBody(vectors, inputs, model, base64, fault, random));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const azure = AZURE_PATH.exec(url.pathname);
    const isEmbeddings =
      url.pathname === '/v1/embeddings' || url.pathname === '/embeddings' || azure !== null;
    if (isEmbeddings && req.method === 'POST') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.once('close', () => inFlight--);
      const deployment = azure ? decodeURIComponent(azure[1] as string) : null;
      handleEmbeddings(req, res, url, deployment).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, String(error), 'server_error');
      });
    } else if (url.pathname === '/v1/models' && req.method === 'GET') {
      const data = (options.models ?? []).map((id) => ({ id, object: 'model', owned_by: 'reembed-test' }));
      send(res, 200, JSON.stringify({ object: 'list', data }));
    } else {
      sendError(
        res,
        isEmbeddings ? 405 : 404,
        `No route for ${req.method} ${url.pathname}.`,
        'invalid_request_error',
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    origin,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get rateLimited() {
      return {
        admitted: limiter?.admitted ?? 0,
        refused: limiter?.refused ?? 0,
        tokens: limiter?.admittedTokens ?? 0,
      };
    },
    setFaults,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function validateRequest(
  body: unknown,
  inputs: readonly unknown[],
  deployment: string | null,
  url: URL,
  options: OpenAICompatibleServerOptions,
): { status: number; message: string; code?: string } | null {
  if (typeof body !== 'object' || body === null)
    return { status: 400, message: 'The body must be a JSON object.' };
  const b = body as Record<string, unknown>;
  if (deployment !== null && !url.searchParams.get('api-version')) {
    return { status: 400, message: 'Missing required query parameter api-version.' };
  }
  if (deployment === null && typeof b.model !== 'string')
    return { status: 400, message: "'model' is required." };
  if (inputs.length === 0)
    return { status: 400, message: "'input' must be a non-empty string or array of strings." };
  if (inputs.some((t) => typeof t !== 'string')) {
    return {
      status: 400,
      message: "'input' must hold strings (token arrays are not supported by this server).",
    };
  }
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    return { status: 400, message: "'encoding_format' must be 'float' or 'base64'." };
  }
  if (b.dimensions !== undefined && !(Number.isInteger(b.dimensions) && (b.dimensions as number) > 0)) {
    return { status: 400, message: "'dimensions' must be a positive integer." };
  }
  if (options.maxBatchSize !== undefined && inputs.length > options.maxBatchSize) {
    return {
      status: 413,
      message: `batch size ${inputs.length} > maximum allowed batch size ${options.maxBatchSize}`,
    };
  }
  return null;
}

function windowLabel(limits: ServerRateLimits | undefined): string {
  const ms = limits?.windowMs ?? 60_000;
  return ms === 60_000 ? 'min' : `${ms} ms`;
}

function presentedKey(req: IncomingMessage): { via: RecordedRequest['auth']; key: string | null } {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (bearer) return { via: 'bearer', key: (bearer[1] as string).trim() };
  const apiKey = req.headers['api-key'];
  if (typeof apiKey === 'string') return { via: 'api-key', key: apiKey };
  return { via: 'none', key: null };
}

function redactHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = ['authorization', 'api-key', 'x-api-key'].includes(name) ? '[redacted]' : String(value);
  }
  return out;
}

/** Resolves with the body, or null once it exceeds the limit (the rest is drained and dropped). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code?: string): void {
  send(res, status, JSON.stringify({ error: { message, type, param: null, code: code ?? null } }));
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Rate limit reached for requests. Please try again later.';
  if (status >= 500) return 'The server had an error while processing your request.';
  return `Request failed with status ${status}.`;
}

function errorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}
