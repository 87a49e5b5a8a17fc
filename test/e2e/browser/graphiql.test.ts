import { existsSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';

const CHROMIUM = '/usr/bin/chromium';

// Debian's chromium, offline: every request that leaves 127.0.0.1 is refused, so a CDN asset would leave the page blank.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('GraphiQL in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** Replaces the text of a Monaco editor (it may close braces itself: whatever follows the cursor goes). */
  async function type(page: Page, editor: Locator, text: string) {
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.insertText(text);
    await page.keyboard.press('Control+Shift+End');
    await page.keyboard.press('Delete');
  }

  async function open() {
    const page = await browser.newPage();
    const outside: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:')
        return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    await page.goto(`${t.url}/graphql`);
    const query = page.locator('.graphiql-query-editor .monaco-editor .view-lines').first();
    await query.waitFor({ timeout: 20_000 });
    return { page, outside, query, result: page.locator('.graphiql-response') };
  }

  it('loads with no outside request, runs a query and shows the result', async () => {
    const { page, outside, query, result } = await open();
    await type(page, query, '{ __typename }');
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(async () => (await result.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/"__typename":\s*"Query"/);
    expect(outside).toEqual([]);
  }, 60_000);

  it('runs a staff query with a token pasted into the headers pane', async () => {
    const { page, query, result } = await open();
    await type(page, query, '{ viewer { kind } }');
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(async () => (await result.textContent()) ?? '', { timeout: 15_000 })
      .toContain('UNAUTHENTICATED');
    // The headers pane is open from the start; its editor is the last Monaco editor on the page.
    const headers = page.locator('.graphiql-editor-tool .monaco-editor .view-lines').last();
    await type(page, headers, `{ "Authorization": "Bearer ${STAFF_TOKEN}" }`);
    await query.click();
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(async () => (await result.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/"kind":\s*"root"/);
  }, 60_000);
});
