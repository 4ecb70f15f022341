// Drives examples/browser/index.html as a person would: through its forms,
// reading what it shows. Nothing is injected into the page, so the test
// proves the example as shipped.
import type { Page } from 'playwright-core';

/** Generous: Chromium shares two cores with other test runs. */
export const PAGE_WAIT = 30_000;

export interface ShownMessage {
  topic: string;
  payload: string;
}

export class ExamplePage {
  constructor(readonly page: Page) {}

  /** Opens the page with `?url=` (it connects at load) and `&v=` for the protocol version. */
  async open(pageUrl: string, wsUrl: string, version: 4 | 5): Promise<void> {
    await this.page.goto(`${pageUrl}?url=${encodeURIComponent(wsUrl)}&v=${version}`);
  }

  /** The status element's state: connecting, connected, down or disconnected. */
  state(): Promise<string | null> {
    return this.page.locator('#status').getAttribute('data-state');
  }

  async waitForState(state: string, timeout = PAGE_WAIT): Promise<void> {
    try {
      await this.page.waitForFunction(
        (want) => document.getElementById('status')?.dataset.state === want,
        state,
        {
          timeout,
          polling: 20,
        },
      );
    } catch {
      throw new Error(
        `the page did not show '${state}' (it shows '${await this.state()}'); log:\n${await this.log()}`,
      );
    }
  }

  async subscribe(filter: string, qos: 0 | 1 | 2): Promise<void> {
    await this.page.fill('#filter', filter);
    await this.page.selectOption('#sub-qos', String(qos));
    await this.page.click('#subscribe button');
    await this.waitForLog(`subscribed to ${filter} `);
  }

  /** Fills the publish form and clicks Publish; the page then counts it as pending until its flow completes. */
  async publish(topic: string, payload: string, qos: 0 | 1 | 2): Promise<void> {
    await this.page.fill('#topic', topic);
    await this.page.fill('#payload', payload);
    await this.page.selectOption('#qos', String(qos));
    await this.page.click('#publish button');
  }

  async counter(name: 'published' | 'pending' | 'failed' | 'outages'): Promise<number> {
    return Number(await this.page.locator(`#${name}`).textContent());
  }

  /** Every message the page has shown, in order. */
  messages(): Promise<ShownMessage[]> {
    return this.page.$$eval('#messages li', (items) =>
      items.map((item) => ({ topic: item.dataset.topic ?? '', payload: item.dataset.payload ?? '' })),
    );
  }

  async log(): Promise<string> {
    return (
      (await this.page
        .locator('#log')
        .textContent({ timeout: 1000 })
        .catch(() => '')) ?? ''
    );
  }

  async waitForLog(text: string, timeout = PAGE_WAIT): Promise<void> {
    try {
      await this.page.waitForFunction(
        (want) => document.getElementById('log')?.textContent?.includes(want) === true,
        text,
        { timeout, polling: 20 },
      );
    } catch {
      throw new Error(`the page never logged '${text}'; log:\n${await this.log()}`);
    }
  }

  /** Waits until the page shows `count` messages on `topic`. */
  async waitForMessages(topic: string, count: number, timeout = PAGE_WAIT): Promise<ShownMessage[]> {
    try {
      await this.page.waitForFunction(
        ([want, n]) =>
          Array.from(document.querySelectorAll<HTMLElement>('#messages li')).filter(
            (li) => li.dataset.topic === want,
          ).length >= n,
        [topic, count] as const,
        { timeout, polling: 50 },
      );
    } catch {
      const shown = (await this.messages()).filter((m) => m.topic === topic).length;
      throw new Error(`the page showed ${shown} of ${count} messages on ${topic}; log:\n${await this.log()}`);
    }
    return (await this.messages()).filter((m) => m.topic === topic);
  }

  /** Waits until `published` reaches `count` with nothing pending. */
  async waitForPublished(count: number, timeout = PAGE_WAIT): Promise<void> {
    try {
      await this.page.waitForFunction(
        (n) =>
          Number(document.getElementById('published')?.textContent) >= n &&
          Number(document.getElementById('pending')?.textContent) === 0,
        count,
        { timeout, polling: 50 },
      );
    } catch {
      const [published, pending, failed] = await Promise.all([
        this.counter('published'),
        this.counter('pending'),
        this.counter('failed'),
      ]);
      throw new Error(
        `the page completed ${published} of ${count} publications (${pending} pending, ${failed} failed); log:\n${await this.log()}`,
      );
    }
  }
}
