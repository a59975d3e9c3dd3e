import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { useDemo } from './demo.fixture.js';
import { useStack } from './stack.fixture.js';

/** Debian's chromium (`apt-get install -y chromium`); CI installs it (.ci/run). */
const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get install -y chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Every pane of the demo page: the page's own device, then the simulated TV, web and phone. */
const PANES = ['#main', '#pane-tv', '#pane-web', '#pane-phone'] as const;

describe('the demo page in a browser (chromium)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;

  let context: BrowserContext;
  let page: Page;
  /** Uncaught errors of the page's script: any fails the test. */
  let pageErrors: string[];

  // Registered before useStack's hooks: a machine without chromium starts nothing, and the page
  // is closed before the stack stops (its clients would otherwise keep reconnecting to it).
  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env['CI']) throw new Error(`${CHROMIUM} is missing; CI must have it: ${INSTALL}`);
      console.log(`      skipped: ${CHROMIUM} is missing. Install it with: ${INSTALL}`);
      this.skip();
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    if (browser === undefined) throw new Error('chromium did not start');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterEach(async () => {
    await context.close();
  });

  const stack = useStack();
  const demo = useDemo(stack);

  /** Opens the page and waits until its own device and the three simulated ones are live. */
  async function open(path: string): Promise<void> {
    const response = await page.goto(`${demo.url}${path}`);
    expect(response?.status()).to.equal(200);
    // The first load bundles the script (esbuild), so allow it some time.
    await page.waitForSelector('body[data-ready]', { timeout: 40_000 });
    for (const pane of PANES) await page.waitForSelector(`${pane}[data-state="synced"]`, { timeout: 10_000 });
  }

  /** Waits until every pane shows the notification of this event. */
  async function shownEverywhere(eventId: string): Promise<void> {
    for (const pane of PANES) await page.waitForSelector(`${pane} [data-notification-id="${eventId}"]`, { timeout: 10_000 });
  }

  it('shows events sent through ingest on the page’s device and on the simulated TV, web and phone', async () => {
    await open('/?account=acct-browser&platform=tv');
    expect(await page.textContent('#main-platform')).to.equal('tv');
    expect(await page.textContent('#account')).to.equal('acct-browser');

    // Straight through ingest, as a backend service sends it.
    const { id } = await stack.send({ type: 'plan.changed', accountId: 'acct-browser', payload: { plan: 'premium' } });
    await shownEverywhere(id);
    expect(await page.textContent(`#main [data-notification-id="${id}"]`))
      .to.contain('plan.changed')
      .and.contain('premium');

    // Through the page's own panel: a button per catalog type; the demo server forwards to ingest.
    const types = await page.$$eval('#event-buttons button', (buttons) => buttons.map((button) => button.getAttribute('data-type')));
    expect(types).to.include.members(['profile.maturity.changed', 'plan.changed', 'viewing.progress', 'mylist.updated', 'recommendations.updated']);
    await page.click('#event-buttons button[data-type="mylist.updated"]');
    const sent = await page.waitForSelector('#sent li[data-sent-id]', { timeout: 10_000 });
    const clickedId = await sent.getAttribute('data-sent-id');
    expect(clickedId).to.be.a('string');
    await shownEverywhere(clickedId!);

    // Targeting by platform: the catalog sends recommendations to web and TV only, so the phone
    // never shows one. Pushed means appended to the history first, and the phone pulls the
    // history in order: once an event sent afterwards is on the phone, the recommendation would be.
    const recommendations = await stack.send({ type: 'recommendations.updated', accountId: 'acct-browser' });
    for (const pane of ['#main', '#pane-tv', '#pane-web']) {
      await page.waitForSelector(`${pane} [data-notification-id="${recommendations.id}"]`, { timeout: 10_000 });
    }
    const later = await stack.send({ type: 'plan.changed', accountId: 'acct-browser', payload: { plan: 'basic' } });
    await page.waitForSelector(`#pane-phone [data-notification-id="${later.id}"]`, { timeout: 10_000 });
    expect(await page.$(`#pane-phone [data-notification-id="${recommendations.id}"]`)).to.equal(null);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}demo.png`, fullPage: true });
    expect(pageErrors, 'errors in the page').to.deep.equal([]);
  });

  it('defaults to a random demo account and a web device, kept in the address', async () => {
    await open('/');
    expect(await page.textContent('#main-platform')).to.equal('web');
    const account = await page.textContent('#account');
    expect(account).to.match(/^demo-/);
    expect(new URL(page.url()).searchParams.get('account')).to.equal(account);
    expect(pageErrors, 'errors in the page').to.deep.equal([]);
  });
});
