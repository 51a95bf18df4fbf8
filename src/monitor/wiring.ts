import type { Reembed } from '../app/reembed.js';
import type { Backend } from '../ports/backend.js';
import type { Clock } from '../ports/clock.js';
import type { SqliteDatabase } from '../stores/sqlite/schema.js';
import { SqliteTrafficRepository } from '../stores/sqlite/traffic.js';
import { TrafficRecorder, type TrafficRecorderOptions } from './traffic-recorder.js';
import type { TrafficRepository } from './traffic-store.js';

/**
 * Finds the traffic repository of a backend: a `traffic` member when the backend declares one, else the
 * SQLite implementation over a backend that shares its better-sqlite3 connection (`db`), else null (the
 * monitor then reports traffic checks as unmeasured instead of failing). One instance per backend.
 */
const cache = new WeakMap<Backend, TrafficRepository>();

export function trafficRepositoryOf(backend: Backend): TrafficRepository | null {
  const declared = (backend as { traffic?: TrafficRepository }).traffic;
  if (declared) return declared;
  const held = cache.get(backend);
  if (held) return held;
  const db = sqliteDbOf(backend);
  if (!db) return null;
  const repository = new SqliteTrafficRepository(db, clockOption(backend));
  cache.set(backend, repository);
  return repository;
}

/** The shared better-sqlite3 connection of an embedded backend, recognised by shape. */
export function sqliteDbOf(backend: Backend): SqliteDatabase | null {
  const db = (backend as { db?: unknown }).db;
  const looksLikeSqlite =
    typeof db === 'object' &&
    db !== null &&
    typeof (db as SqliteDatabase).prepare === 'function' &&
    typeof (db as SqliteDatabase).pragma === 'function';
  return looksLikeSqlite ? (db as SqliteDatabase) : null;
}

export function clockOption(backend: Backend): { clock?: Clock } {
  const clock = (backend as { clock?: Clock }).clock;
  return clock ? { clock } : {};
}

export interface TrafficRecording {
  readonly recorder: TrafficRecorder;
  /** Detaches the observer and flushes what is buffered. Call before `app.close()`. */
  stop(): Promise<void>;
}

/**
 * Starts recording the app's query traffic (per namespace counts, latency, mixed-version responses) into
 * the backend's traffic repository, flushing in the background. Returns null when the backend keeps no
 * traffic statistics.
 *
 * @example
 * const recording = recordTraffic(app);
 * // ... app.search(...) ...
 * await recording?.stop();
 */
export function recordTraffic(
  app: Reembed,
  options: TrafficRecorderOptions & { readonly repository?: TrafficRepository } = {},
): TrafficRecording | null {
  const repository = options.repository ?? trafficRepositoryOf(app.backend);
  if (!repository) return null;
  const backendClock = clockOption(app.backend).clock;
  const recorder = new TrafficRecorder(repository, {
    ...(backendClock ? { clock: backendClock } : {}),
    ...options,
  }).start();
  const detach = app.queries.observe(recorder);
  return {
    recorder,
    async stop() {
      detach();
      await recorder.close();
    },
  };
}
