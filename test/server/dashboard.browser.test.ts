import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/app/api-keys.js';
import { openReembed } from '../../src/app/open.js';
import { hashing } from '../app/helpers.js';
import { tempDir } from '../cli/helpers.js';
import { corpus } from './corpus.js';

/**
 * The dashboard in Debian's Chromium (playwright-core, headless) against a real `reembed serve` process
 * over a real SQLite file: sign-in with a query key, collections, a migration whose progress bar moves
 * while the page polls, admin actions refused with a query key and run after the gates are shown with an
 * admin key, and the shadow-diff review queue storing judgments as a golden set the gates then read.
 */
const CHROMIUM = process.env.REEMBED_CHROMIUM ?? '/usr/bin/chromium';
const root = resolve(import.meta.dirname, '../..');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

let dir: { dir: string; cleanup(): void };
let child: ChildProcess;
let url = '';
let browser: Browser;
const keys: Record<string, string> = {};

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(url);
  await page.evaluate('sessionStorage.clear()');
  await page.goto(url);
  await page.fill('#key', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#content:not([hidden])');
}

describe.skipIf(!haveChromium)('dashboard in Chromium against reembed serve', () => {
  beforeAll(async () => {
    dir = tempDir('reembed-dash-');
    const db = join(dir.dir, 'dash.db');
    const app = await openReembed({ db, actor: 'test' });
    await app.addSpace(hashing('v1', 1));
    await app.addSpace(hashing('v2', 2));
    await app.createCollection('docs', 'v1');
    await app.ingest('docs', corpus(600));
    keys.admin = (await createApiKey(app.backend, { name: 'ops', scope: 'admin' }, 'test')).secret;
    keys.reader = (await createApiKey(app.backend, { name: 'viewer', scope: 'query' }, 'test')).secret;
    await app.close();
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/cli/entry.ts'),
        '--db',
        db,
        'serve',
        '--port',
        '0',
        '--coverage-every',
        '0.3',
        '--monitor-every',
        '0',
      ],
      { cwd: root, env: { ...process.env, REEMBED_PG_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    url = await new Promise<string>((ok, fail) => {
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /Serving (http:\/\/\S+)/.exec(stderr);
        if (m?.[1]) ok(m[1]);
      });
      child.on('exit', (code) => fail(new Error(`reembed serve exited ${code}: ${stderr}`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    // A shadow migration with the collection's probe: nothing backfilled yet.
    const started = await api('POST', '/v1/migrations', keys.admin as string, {
      alias: 'docs',
      to: 'v2',
      strategy: 'shadow',
      options: { backfill: { batchSize: 50, concurrency: 1 } },
    });
    expect(started.status, JSON.stringify(started.json)).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await exited;
    }
    dir?.cleanup();
  });

  it('a query key sees collections and a migration progressing live, and cannot act', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.reader as string);
    await expect.poll(() => page.textContent('#who')).toContain('scope query');
    await page.waitForSelector('.collection[data-collection="docs"] tr[data-namespace="docs@v1"]');
    await page.waitForSelector('.migration[data-state]');
    const before = await page.textContent('.migration .progress-text');
    // The migration advances behind the page's back; the page shows it without a reload.
    const step = await api('POST', '/v1/migrations/docs/step', keys.admin as string, { maxBatches: 3 });
    expect(step.status).toBe(200);
    await expect
      .poll(() => page.textContent('.migration .progress-text'), { timeout: 15_000 })
      .not.toBe(before);
    expect(await page.textContent('.migration .progress-text')).toMatch(/^150 \/ 600 documents/);
    // Admin buttons are disabled for this key, and the API refuses the action itself.
    expect(await page.isDisabled('.migration button[data-action="step"]')).toBe(true);
    // The page's own key, from the page: the API itself refuses it.
    const refused = (await page.evaluate(`(async () => {
      const res = await fetch('/v1/migrations/docs/step', {
        method: 'POST',
        headers: { authorization: 'Bearer ' + sessionStorage.getItem('reembed.key') },
      });
      return { status: res.status, body: await res.json() };
    })()`)) as { status: number; body: { error: { code: string } } };
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    // Coverage over time is sampled by the server while the backfill runs.
    await page.waitForSelector('#coverage-chart svg polyline, #coverage-chart svg circle', {
      timeout: 15_000,
    });
    await page.close();
  }, 60_000);

  it('an admin key sees the gates before a step and the step runs after confirming', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await signIn(page, keys.admin as string);
    await page.waitForSelector('.migration button[data-action="step"]:not([disabled])');
    const before = await page.textContent('.migration .progress-text');
    await page.click('.migration button[data-action="step"]');
    // The gate evaluation (the same as cutover's) is shown first; nothing has run yet.
    await page.waitForSelector('#gate-verdict');
    expect(await page.$$eval('#gate-body table.gates tr', (rows) => rows.length)).toBeGreaterThan(1);
    expect(await page.textContent('.migration .progress-text')).toBe(before);
    await page.click('#gate-confirm');
    await expect
      .poll(() => page.textContent('.migration .progress-text'), { timeout: 30_000 })
      .toMatch(/^600 \/ 600/);
    // Cancel does nothing.
    const state = await page.getAttribute('.migration', 'data-state');
    await page.click('.migration button[data-action="rollback"]');
    await page.waitForSelector('#gate-verdict');
    await page.click('#gate-cancel');
    await page.waitForTimeout(500);
    expect(await page.getAttribute('.migration', 'data-state')).toBe(state);
    await page.waitForSelector('.quality svg');
    mkdirSync(join(root, 'docs'), { recursive: true });
    if (process.env.REEMBED_SCREENSHOTS === '1') {
      await page.screenshot({ path: join(root, 'docs/dashboard.png'), fullPage: true });
    }
    await page.close();
  }, 90_000);

  it('the review queue stores judgments as a golden set that the gates evaluate', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await signIn(page, keys.admin as string);
    await page.click('nav button[data-tab="review"]');
    await page.waitForSelector('#review-migration option', { state: 'attached' });
    await page.click('#review-load');
    await page.waitForSelector('.review-item', { timeout: 30_000 });
    const item = page.locator('.review-item').first();
    const query = await item.getAttribute('data-query');
    // Lost and gained documents are shown side by side with their text.
    const firstDoc = item.locator('.doc').first();
    expect((await firstDoc.locator('.text').textContent())?.length).toBeGreaterThan(10);
    await firstDoc.locator('input[value="yes"]').check();
    await item.locator('.doc').nth(1).locator('input[value="no"]').check();
    await item.locator('button.save').click();
    await page.waitForSelector('.review-item .saved');
    if (process.env.REEMBED_SCREENSHOTS === '1') {
      await item.screenshot({ path: join(root, 'docs/dashboard-review.png') });
    }
    const sets = await api('GET', '/v1/golden-sets', keys.admin as string);
    expect(JSON.stringify(sets.json)).toContain('review-docs');
    const gates = await api('POST', '/v1/migrations/docs/gates', keys.admin as string, {
      golden: 'review-docs',
    });
    expect(gates.status).toBe(200);
    const facts = gates.json.facts as Record<string, number>;
    expect(facts['new.ndcg@10']).toBeTypeOf('number');
    // The migration names the set; the queue leaves judged queries out.
    const status = await api('GET', '/v1/migrations/docs', keys.admin as string);
    expect((status.json.migration as { info: { reviewGolden?: string } }).info.reviewGolden).toBe(
      'review-docs',
    );
    const queue = await api('GET', '/v1/migrations/docs/review', keys.admin as string);
    expect((queue.json.items as { id: string }[]).map((i) => i.id)).not.toContain(query);
    await page.close();
  }, 90_000);
});
