import { describe, expect, it } from 'vitest';
import { mapPool } from './pool.js';

/** Blocks the thread for `ms`, as a call into an embedded store or a local model does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('mapPool', () => {
  it('keeps input order under concurrency', async () => {
    const out = await mapPool([5, 1, 3, 2], async (n) => n * 2, { concurrency: 3 });
    expect(out).toEqual([10, 2, 6, 4]);
  });

  it('is aborted by a signal fired from a timer while every call is synchronous work', async () => {
    // Calls that never wait on I/O: without turns of the event loop the timer (as a SIGINT handler)
    // could not run before the whole pool had finished.
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGINT'), 30);
    let ran = 0;
    const run = mapPool(
      Array.from({ length: 400 }, (_, i) => i),
      async (i) => {
        busy(2);
        ran++;
        return i;
      },
      { signal: controller.signal },
    );
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(ran).toBeLessThan(400);
  });
});
