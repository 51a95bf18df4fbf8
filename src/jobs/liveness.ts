import { hostname } from 'node:os';
import type { Job, JobRunner, JobState } from '../ports/jobs.js';

/** How often a running job's runner refreshes its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** A runner silent this long is presumed dead (six missed heartbeats: a busy event loop is not death). */
export const LEASE_MS = 30_000;

/**
 * What a job's state means right now. A job row says `running` until its runner says otherwise, so a
 * runner that was SIGKILLed (or whose machine died) leaves `running` behind; here that becomes
 * `interrupted`: the runner's process is gone (same host: checked by pid) or its heartbeat is older than
 * the lease (any host).
 */
export type EffectiveJobState = JobState | 'interrupted';

export interface JobLiveness {
  readonly state: EffectiveJobState;
  /** Why, in a few words (`runner pid 4242 on host a is gone`, `heartbeat 41 s ago`), or null. */
  readonly detail: string | null;
}

export interface LivenessOptions {
  readonly now: Date;
  readonly leaseMs?: number;
  /** This machine's name (default `os.hostname()`): pids are only checked for runners on it. */
  readonly host?: string;
  /** Whether a process of this machine is alive (default: `process.kill(pid, 0)`). */
  readonly isAlive?: (pid: number) => boolean;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The runner's health: `alive`, or why it is not. */
export function runnerHealth(
  runner: JobRunner,
  options: LivenessOptions,
): { alive: boolean; detail: string } {
  const host = options.host ?? hostname();
  const isAlive = options.isAlive ?? processAlive;
  const ageMs = options.now.getTime() - Date.parse(runner.heartbeatAt);
  const age = `heartbeat ${Math.max(0, Math.round(ageMs / 1000))} s ago`;
  if (runner.host === host && runner.pid !== process.pid && !isAlive(runner.pid))
    return { alive: false, detail: `runner pid ${runner.pid} on ${runner.host} is gone (${age})` };
  if (ageMs > (options.leaseMs ?? LEASE_MS))
    return { alive: false, detail: `runner pid ${runner.pid} on ${runner.host} stopped responding (${age})` };
  return { alive: true, detail: `runner pid ${runner.pid} on ${runner.host}, ${age}` };
}

/**
 * A job's effective state: `running` only while a live runner holds it; `interrupted` when it says
 * running but its runner died, or when nothing has held it (no runner row) for a whole lease.
 */
export function jobLiveness(job: Job, options: LivenessOptions): JobLiveness {
  if (job.state !== 'running') return { state: job.state, detail: null };
  if (job.runner) {
    const health = runnerHealth(job.runner, options);
    return { state: health.alive ? 'running' : 'interrupted', detail: health.detail };
  }
  const idleMs = options.now.getTime() - Date.parse(job.updatedAt);
  if (idleMs > (options.leaseMs ?? LEASE_MS))
    return { state: 'interrupted', detail: `no runner, no progress for ${Math.round(idleMs / 1000)} s` };
  return { state: 'running', detail: null };
}
