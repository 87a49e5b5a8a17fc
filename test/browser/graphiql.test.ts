import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

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

  it('loads with no outside request, runs a query and shows the result', async () => {
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
    const editor = page.locator('.graphiql-query-editor .monaco-editor .view-lines').first();
    await editor.waitFor({ timeout: 20_000 });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.insertText('{ __typename }');
    // The editor may close the brace itself: drop whatever follows the cursor.
    await page.keyboard.press('Control+Shift+End');
    await page.keyboard.press('Delete');
    await page.keyboard.press('Control+Enter');
    const result = page.locator('.graphiql-response');
    await expect
      .poll(async () => (await result.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/"__typename":\s*"Query"/);
    expect(outside).toEqual([]);
  }, 60_000);
});
