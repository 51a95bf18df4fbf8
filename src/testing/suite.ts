import { afterEach, beforeEach, describe } from 'vitest';

/** What a conformance suite builds before every test and tears down after it. */
export interface SuiteHarness {
  cleanup(): Promise<void>;
}

/** The options every conformance suite takes (STYLE #11: `testX({ name, create, skip })`). */
export interface SuiteOptions<H extends SuiteHarness> {
  /** Shown in test titles, e.g. `sqlite`. */
  readonly name: string;
  /** Called before every test: a fresh, empty harness (a new file, schema or table prefix). */
  readonly create: () => Promise<H>;
  /** When set, the whole suite is skipped and the reason printed in its title (e.g. a server is not running). */
  readonly skip?: string;
}

/**
 * Declares a conformance suite titled `${title}: ${name}` (with the skip reason when skipped): a fresh
 * harness from `create` before every test, its `cleanup` after. `body` gets the current harness as `h`
 * (a view of whichever harness the running test has; reading it outside a test throws).
 *
 * @example
 * export function testTrafficRepository(options: TrafficSuiteOptions): void {
 *   describeSuite('Traffic repository', options, (h) => {
 *     it('stores rows', async () => { await h.traffic.record([]); });
 *   });
 * }
 */
export function describeSuite<H extends SuiteHarness>(
  title: string,
  options: SuiteOptions<H>,
  body: (h: H) => void,
): void {
  const label = `${title}: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`;
  describe.skipIf(Boolean(options.skip))(label, () => {
    let current: H | undefined;
    const active = (): H => {
      if (!current) throw new Error(`${title}: the harness is only available inside a test`);
      return current;
    };
    beforeEach(async () => {
      current = await options.create();
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.cleanup();
    });
    body(new Proxy({} as H, { get: (_, key) => Reflect.get(active(), key) }));
  });
}
