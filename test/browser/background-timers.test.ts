/**
 * A page that stays connected while its timers are throttled, as in a hidden
 * tab. Chrome runs a hidden page's chained timers at most once a minute after
 * a few minutes hidden (intensive wake-up throttling); headless Chromium never
 * hides a page, so the page's own timers are throttled here the same way by an
 * init script (every page timer waits for the next whole minute since load)
 * that leaves the worker's timers alone, as Chrome does. With `timers: 'main'`
 * keepalive is then late, Mosquitto drops the connection (1.5 x keepalive of
 * silence) and the page goes down; with the default (`'auto'`: worker timers)
 * the same page stays up and its messages go through.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type PageServer, servePage } from '../../examples/browser/serve.ts';
import { connect } from '../../src/node.ts';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.ts';
import { type Browser, launchChromium } from './chromium.ts';
import { ExamplePage } from './example-page.ts';

const KEEPALIVE_S = 2;
/** Long enough for Mosquitto to drop a client whose PINGREQs are late several times over. */
const WATCH_MS = 12_000;

/** The page's setTimeout and setInterval, throttled to one wake-up a minute. */
const THROTTLE_PAGE_TIMERS = `(() => {
  const start = performance.now();
  const nextMinute = (ms) => {
    const due = performance.now() + ms;
    const wake = start + Math.ceil((due - start) / 60000) * 60000;
    return Math.max(ms, wake - performance.now());
  };
  const realTimeout = window.setTimeout.bind(window);
  window.setTimeout = (fn, ms = 0, ...args) => realTimeout(fn, ms < 1000 ? ms : nextMinute(ms), ...args);
  const realInterval = window.setInterval.bind(window);
  window.setInterval = (fn, ms = 0, ...args) => realInterval(fn, Math.max(ms, 60000), ...args);
})();`;

let browser: Browser;
let server: PageServer;
let broker: MosquittoBroker;

before(async () => {
  broker = await startMosquitto({ websockets: true });
  browser = await launchChromium();
  server = await servePage();
});
after(async () => {
  await server?.close();
  await browser?.close();
  await broker?.stop();
});

async function throttledPage(timers: 'main' | 'auto') {
  const { page, problems } = await browser.newPage();
  await page.addInitScript(THROTTLE_PAGE_TIMERS);
  const example = new ExamplePage(page);
  await page.goto(
    `${server.url}?url=${encodeURIComponent(broker.wsUrl!)}&v=5&keepalive=${KEEPALIVE_S}&timers=${timers}`,
  );
  await example.waitForState('connected');
  return { page, example, problems };
}

test('throttled page timers: keepalive from the page itself is late and the broker drops the page', async () => {
  const { page, example } = await throttledPage('main');
  try {
    await example.waitForState('down', WATCH_MS + 5000);
  } finally {
    await page.close();
  }
});

test('throttled page timers: with worker timers (the default) the page stays connected', async () => {
  const { page, example, problems } = await throttledPage('auto');
  try {
    const listener = await connect(broker.url);
    const got: string[] = [];
    await listener.subscribe('background/#', { qos: 1, onMessage: (m) => got.push(m.text) });
    await new Promise((r) => setTimeout(r, WATCH_MS));
    assert.equal(await example.state(), 'connected', await example.log());
    assert.equal(await example.counter('outages'), 0);
    await example.publish('background/after', 'still here', 1);
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await listener.end();
    assert.deepEqual(got, ['still here']);
    assert.deepEqual(
      problems.filter((p) => p.startsWith('uncaught')),
      [],
    );
  } finally {
    await page.close();
  }
});
