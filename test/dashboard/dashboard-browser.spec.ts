import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { testNamespace } from '../support/connect.js';
import { DashboardFixture, PATHS, startDashboardApp } from './dashboard-fixture.js';

/**
 * The page in Debian's Chromium (`apt-get install chromium`, done in CI by
 * scripts/ensure-chromium.ts), driven by puppeteer-core: no browser is downloaded.
 * DASHBOARD_SCREENSHOT=docs/dashboard.png also saves a screenshot of the page.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI installs it with scripts/ensure-chromium.ts`);
}
const maybe = available ? describe : describe.skip;
if (!available) console.warn(`dashboard browser test skipped: no ${CHROMIUM}`);

maybe('dashboard page in a headless browser', () => {
  let fixture: DashboardFixture;
  let browser: Browser;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  beforeAll(async () => {
    fixture = await startDashboardApp(testNamespace('dashboard-browser'), {
      sampleIntervalMs: 250,
      storageWrites: true,
    });
    profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${(error as Error).message}`));
    page.on('requestfailed', (request) => {
      // the event stream is cut when the page closes; anything else is a problem
      if (!request.url().endsWith('/api/events')) problems.push(`request failed: ${request.url()}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await fixture?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const text = (selector: string) =>
    page.$eval(selector, (element) =>
      (element as unknown as { innerText: string }).innerText.trim(),
    );
  const queueCard = `[data-queue="${PATHS.queue}"]`;
  /** Waits until the element's text is the number `expected` (the page updates from events). */
  const untilNumber = (selector: string, expected: number) =>
    page.waitForFunction(
      `Number(document.querySelector(${JSON.stringify(selector)})?.innerText) === ${expected}`,
      { timeout: 10_000 },
    );

  /**
   * Waits until the chart (a `.uplot` element), hovered at its right edge, i.e. at its newest
   * point, shows `expected` for the series `label` in its legend.
   */
  const untilCharted = (chart: string, label: string, expected: number) =>
    page.waitForFunction(
      `(() => {
        const chart = document.querySelector(${JSON.stringify(chart)});
        const over = chart?.querySelector('.u-over');
        if (!over) return false;
        const box = over.getBoundingClientRect();
        over.dispatchEvent(new MouseEvent('mousemove', {
          clientX: box.right - 1, clientY: box.top + box.height / 2, bubbles: true,
        }));
        const row = [...chart.querySelectorAll('.u-legend .u-series')]
          .find((row) => row.querySelector('.u-label')?.textContent === ${JSON.stringify(label)});
        return Number(row?.querySelector('.u-value')?.textContent) === ${expected};
      })()`,
      { timeout: 10_000 },
    );

  it('loads without console errors and shows the leader, the members and the queue depth', async () => {
    await page.goto(fixture.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(`[data-election="${PATHS.election}"] .leader`);
    expect(await text(`[data-election="${PATHS.election}"] .leader`)).toBe('alpha');
    expect(
      await page.$$eval(`[data-election="${PATHS.election}"] .candidate`, (rows) => rows.length),
    ).toBe(2);
    const members = await page.$$eval(`[data-group="${PATHS.group}"] .member`, (rows) =>
      rows.map((row) => (row as unknown as { innerText: string }).innerText),
    );
    expect(members).toHaveLength(2);
    expect(members.join('\n')).toContain('"worker": "w1"');

    await page.waitForSelector(`${queueCard} .depth`, { timeout: 10_000 }).catch((error) => {
      throw new Error(`${(error as Error).message}; page problems: ${problems.join('; ')}`);
    });
    const { snapshot } = (await (await fetch(`${fixture.url}/api/snapshot`)).json()) as {
      snapshot: { queues: { messages: number }[] };
    };
    expect(Number(await text(`${queueCard} .depth`))).toBe(snapshot.queues[0].messages);
    expect(await page.$$eval(`${queueCard} .uplot`, (charts) => charts.length)).toBe(2);
    expect(await text('.conn-state')).toBe('CONNECTED');
    expect(problems).toEqual([]);
  });

  it('updates when a message is published', async () => {
    const before = Number(await text(`${queueCard} .depth`));
    await fixture.messaging.queue(PATHS.queue).publish({ n: 10 });
    await untilNumber(`${queueCard} .depth`, before + 1);
    // the depth chart's newest point came with the stream's samples: it is the new depth
    await untilCharted(`${queueCard} .uplot`, 'messages', before + 1);
    const logBefore = Number(await text(`[data-log="${PATHS.log}"] .log-messages`));
    await fixture.messaging.broadcast(PATHS.log).publish({ order: 4 });
    await untilNumber(`[data-log="${PATHS.log}"] .log-messages`, logBefore + 1);
  });

  it('replays a dead letter from the page', async () => {
    expect(Number(await text(`${queueCard} .dead-count`))).toBe(1);
    const before = Number(await text(`${queueCard} .depth`));
    await page.click(`${queueCard} .show-dead`);
    await page.waitForSelector(`${queueCard} .dead-letter .replay`);
    await page.click(`${queueCard} .dead-letter .view`);
    await page.waitForSelector('#dialog[open]');
    expect(await text('#dialog-body')).toContain('cannot handle n=0');
    await page.click('#dialog-actions button[value="close"]');

    const screenshot = process.env.DASHBOARD_SCREENSHOT;
    if (screenshot) {
      const file = resolve(screenshot);
      mkdirSync(dirname(file), { recursive: true });
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
    }

    await page.click(`${queueCard} .dead-letter .replay`);
    await untilNumber(`${queueCard} .dead-count`, 0);
    expect(await fixture.messaging.queue(PATHS.queue).deadLetters()).toEqual([]);
    await untilNumber(`${queueCard} .depth`, before + 1);
    expect(problems).toEqual([]);
  });
  it('edits a storage value on the page (bad JSON refused) and deletes a key', async () => {
    const key = (path: string) => `#storage li[data-path="${path}"] > span`;
    const path = `${PATHS.storage}/limits/max-orders`;
    await page.click(key(PATHS.storage));
    await page.waitForSelector(key(`${PATHS.storage}/limits`));
    await page.click(key(`${PATHS.storage}/limits`));
    await page.waitForSelector(key(path));
    await page.click(key(path));
    await page.waitForFunction(
      `document.querySelector('#storage .value')?.dataset.path === ${JSON.stringify(path)} && !!document.querySelector('#storage .storage-edit')`,
      { timeout: 10_000 },
    );
    expect(JSON.parse(await page.$eval('#storage .storage-edit', (e) => (e as any).value))).toEqual(
      {
        max: 10,
      },
    );

    const edit = async (text: string) => {
      await page.$eval('#storage .storage-edit', (e, value) => ((e as any).value = value), text);
      await page.click('#storage .storage-save');
    };
    await edit('{"max": ');
    await page.waitForSelector('#storage .storage-error:not([hidden])');
    expect(await text('#storage .storage-error')).toContain('not JSON');
    expect(JSON.parse((await fixture.zk.get(path)).data.toString())).toEqual({ max: 10 });

    await edit('{"max": 42}');
    await page.waitForFunction(
      `document.querySelector('#storage .storage-meta')?.innerText.startsWith('version 1')`,
      { timeout: 10_000 },
    );
    expect(JSON.parse(await page.$eval('#storage .storage-edit', (e) => (e as any).value))).toEqual(
      {
        max: 42,
      },
    );
    expect(JSON.parse((await fixture.zk.get(path)).data.toString())).toEqual({ max: 42 });

    await page.click('#storage .storage-delete'); // the confirmation is accepted
    await page.waitForFunction(`!document.querySelector(${JSON.stringify(key(path))})`, {
      timeout: 10_000,
    });
    expect(await fixture.zk.exists(path)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
