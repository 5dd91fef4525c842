import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { chromium, type BrowserContext } from 'playwright-core';
import { describeWith } from '../support/requires';
import { startWsBroker, type WsBroker } from './support';

/** Debian's chromium; playwright-core drives it without downloading a browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
/** Git-ignored: CI keeps what is written here. */
const ARTIFACTS = join(__dirname, '..', '..', 'artifacts');
const SCREENSHOT = join(ARTIFACTS, 'stomp-ws-demo-page.png');

jest.setTimeout(90000);

describeWith(['chromium'], 'the demo page in headless Chromium', () => {
  let b: WsBroker;
  let amqpConnection: ChannelModel;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    b = await startWsBroker();
    amqpConnection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqpPort}`);
    // A fresh profile each run: nothing cached from an earlier page, no first-run state.
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
      viewport: { width: 1100, height: 1000 },
    });
  });

  afterAll(async () => {
    await context?.close();
    await amqpConnection?.close().catch(() => {});
    await b?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  it('subscribes, shows what an AMQP publisher sends as it arrives, and sends from the page', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));

    await page.goto(`http://127.0.0.1:${b.wsPort}/`);
    await page.locator('#status[data-state="connected"]').waitFor();
    expect(await page.locator('#endpoint').textContent()).toBe(`ws://127.0.0.1:${b.wsPort}/ws`);

    await page.fill('#sub-destination', '/topic/demo.e2e');
    await page.click('#subscribe');
    // The chip turns active on the SUBSCRIBE's receipt: the broker has the binding in place.
    await page.locator('#subscriptions li[data-state="active"]').waitFor();

    const ch = await amqpConnection.createChannel();
    ch.publish('amq.topic', 'demo.e2e', Buffer.from('Hello from an AMQP publisher'), {
      contentType: 'text/plain',
      correlationId: 'order-17',
      headers: { source: 'amqplib' },
    });
    const first = page.locator('#messages li.message').first();
    await first.locator('.body', { hasText: 'Hello from an AMQP publisher' }).waitFor();
    expect(await first.locator('.destination').textContent()).toBe('/topic/demo.e2e');
    const headers = await first.locator('.headers').innerText();
    expect(headers).toContain('correlation-id');
    expect(headers).toContain('order-17');
    expect(headers).toContain('amqplib');

    // A body that is not UTF-8 comes as a binary WebSocket message and is shown byte for byte.
    ch.publish('amq.topic', 'demo.e2e', Buffer.from([0x00, 0xff, 0x80, 0x00, 0x41]));
    await page.locator('#messages .body', { hasText: '5 bytes: 00 ff 80 00 41' }).waitFor();

    await page.fill('#send-destination', '/topic/demo.e2e');
    await page.fill('#send-body', 'And hello back from the browser');
    await page.click('#send');
    await page.locator('#messages .body', { hasText: 'And hello back from the browser' }).waitFor();
    expect(await page.locator('#count').textContent()).toBe('3');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
  });
});
