import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describeWith } from '../support/requires';
import { startWarren, type TestBroker } from '../support/warren';

/** Debian's chromium; playwright-core drives it without downloading a browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
/** Git-ignored: CI keeps what is written here. */
const ARTIFACTS = join(__dirname, '..', '..', 'artifacts');
/** The console polls every 5 s by default; the test asks for 250 ms so each step waits for events, not time. */
const POLL = 250;
/** A laptop's width; the phone check uses 390 px. */
const LAPTOP = { width: 1280, height: 900 };

jest.setTimeout(120_000);

describeWith(['chromium'], 'the web console in headless Chromium', () => {
  let b: TestBroker;
  let connection: ChannelModel;
  let ch: Channel;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  /** Console errors and uncaught page errors: the console must cause none. */
  const problems: string[] = [];
  let base: string;

  beforeAll(async () => {
    b = await startWarren();
    base = `http://127.0.0.1:${b.httpPort}`;
    connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqpPort}`);
    ch = await connection.createChannel();
    profile = await mkdtemp(join(tmpdir(), 'warren-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: LAPTOP,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    await connection?.close().catch(() => {});
    await b?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  const shot = async (name: string): Promise<void> => {
    const file = join(ARTIFACTS, `console-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    expect(existsSync(file)).toBe(true);
  };

  async function logIn(user: string, password: string): Promise<void> {
    await page.locator('#login-user').fill(user);
    await page.locator('#login-password').fill(password);
    await page.keyboard.press('Enter');
  }

  /** The rate chart's newest sample, as the page exposes it on the figure. */
  async function lastRates(): Promise<{ samples: number; publish: number }> {
    const figure = page.locator('#overview-rates');
    const samples = Number(await figure.getAttribute('data-samples'));
    const last = JSON.parse((await figure.getAttribute('data-last')) ?? '{}') as { publish?: number };
    return { samples, publish: last.publish ?? 0 };
  }

  it('logs in as guest and shows the overview with the node and listeners', async () => {
    await page.goto(`${base}/?poll=${POLL}`);
    await page.locator('#login-form').waitFor();
    await logIn('guest', 'guest');
    await page.locator('#who', { hasText: 'guest' }).waitFor();
    await page.locator('#alarms', { hasText: 'No alarms.' }).waitFor();
    const listeners = page.getByRole('region', { name: 'Listeners' });
    await listeners.getByRole('cell', { name: String(b.amqpPort), exact: true }).waitFor();
    await listeners.getByRole('cell', { name: 'amqp', exact: true }).waitFor();
  });

  it('moves the overview rate chart while amqplib publishes', async () => {
    const before = await lastRates();
    expect(before.publish).toBe(0);
    await ch.assertQueue('console.rates', { durable: false });
    // amqplib publishes steadily while the test waits for the chart's newest point to show a publish rate.
    // The broker samples its counters every 5 s, so that takes up to two samples; the deadline is generous.
    const publisher = setInterval(() => {
      for (let i = 0; i < 20; i++) ch.sendToQueue('console.rates', Buffer.from(`tick ${i}`));
    }, 100);
    let now = before;
    try {
      const deadline = Date.now() + 30_000;
      while (now.publish === 0 && Date.now() < deadline) {
        await page.waitForTimeout(POLL);
        now = await lastRates();
      }
    } finally {
      clearInterval(publisher);
    }
    expect(now.publish).toBeGreaterThan(0);
    expect(now.samples).toBeGreaterThan(before.samples);
    // The figure's plot is drawn by uPlot: a canvas is on the page.
    expect(await page.locator('#overview-rates canvas').count()).toBeGreaterThan(0);
    await shot('overview');
    await ch.deleteQueue('console.rates');
  });

  it('shows a queue declared over AMQP with its depth, gets a message and purges', async () => {
    await ch.assertQueue('console.orders', { durable: true });
    for (const n of [1, 2, 3]) {
      ch.sendToQueue('console.orders', Buffer.from(`order #${n}`), { contentType: 'text/plain' });
    }
    await page.getByRole('link', { name: 'Queues', exact: true }).click();
    const row = page.getByRole('row', { name: /console\.orders/ });
    await row.getByRole('cell', { name: '3', exact: true }).first().waitFor();
    await shot('queues');

    await row.getByRole('link', { name: 'console.orders' }).click();
    await page.locator('#queue-ready', { hasText: '3' }).waitFor();
    // Requeue mode: the message is shown and stays in the queue.
    await page.locator('#get-messages select[name="ackmode"]').selectOption('ack_requeue_true');
    await page.getByRole('button', { name: 'Get messages' }).click();
    await page.locator('#messages .payload', { hasText: 'order #1' }).waitFor();
    expect(await page.locator('#messages').innerText()).toContain('text/plain');
    await page.locator('#queue-ready', { hasText: '3' }).waitFor();
    await shot('queue');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Purge messages' }).click();
    await page.locator('#notice', { hasText: 'console.orders purged' }).waitFor();
    await page.locator('#queue-total', { hasText: /^0$/ }).waitFor();
    const check = await ch.checkQueue('console.orders');
    expect(check.messageCount).toBe(0);
  });

  it('adds a user with tags and permissions in Admin, logs out and logs in as that user', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    const form = page.locator('#add-user');
    await form.getByLabel('Username').fill('ops-alice');
    await form.getByLabel('Password').fill('s3cret-pass');
    await form.getByLabel('Tags').fill('management, monitoring');
    await form.getByRole('button', { name: 'Save user' }).click();
    await page.getByRole('region', { name: 'Users' }).getByRole('cell', { name: 'ops-alice' }).waitFor();

    const perms = page.locator('#set-permission');
    await perms.getByLabel('User').selectOption('ops-alice');
    await perms.getByLabel('Vhost').selectOption('/');
    await perms.getByLabel('Write regexp').fill('^console\\.');
    await perms.getByRole('button', { name: 'Set permissions' }).click();
    await page
      .getByRole('region', { name: 'Permissions' })
      .getByRole('row', { name: /ops-alice/ })
      .waitFor();
    await shot('admin');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#login-form').waitFor();
    await logIn('ops-alice', 's3cret-pass');
    await page.locator('#who', { hasText: 'ops-alice' }).waitFor();
    expect(await page.locator('#who').innerText()).toContain('management, monitoring');
    // Not an administrator: no Admin link, and the page it was on says why it shows nothing.
    expect(await page.getByRole('link', { name: 'Admin' }).isVisible()).toBe(false);
    await page.getByText('needs the administrator tag').waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('#alarms', { hasText: 'No alarms.' }).waitFor();
  });

  it('is readable at a phone width, and the page caused no console errors', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Queues', exact: true }).click();
    await page.getByRole('row', { name: /console\.orders/ }).waitFor();
    // The page itself does not scroll sideways; wide tables scroll inside their own region.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('queues-phone');
    await page.setViewportSize(LAPTOP);
    expect(problems).toEqual([]);
  });
});
