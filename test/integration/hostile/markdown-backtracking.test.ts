import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { documentFinished } from '../../support/documents.ts';
import { uploadFile } from '../../support/processes.ts';

let t: TestApp;
// The old regexes spent about 25 s on this file; 5 s is a generous bound for linear-time parsing.
beforeAll(async () => {
  t = await startTestApp({ EXTRACTION_TIMEOUT_MS: '5000', EXTRACTION_RETRIES: '0' });
});
afterAll(() => t.stop());

/** 300 KB of long runs of spaces, '#', '|', brackets and emphasis markers that never close. */
function pathologicalMarkdown(): string {
  const lines = [
    `a${' '.repeat(60_000)}#${' '.repeat(20_000)}x`,
    `${'#'.repeat(3)} ${' '.repeat(40_000)}${'#'.repeat(20_000)}x`,
    `|${' '.repeat(40_000)}x`,
    '*a '.repeat(20_000),
    '!['.repeat(20_000),
    '<a'.repeat(20_000),
  ];
  return `# Pathological\n\nreadable words\n\n${lines.join('\n\n')}\n`;
}

describe('Markdown built to make regexes backtrack', () => {
  it('is extracted well within the time limit', async () => {
    const markdown = pathologicalMarkdown();
    expect(markdown.length).toBeGreaterThan(300_000);
    const { id } = await uploadFile(t.url, 'slow.md', markdown);
    const doc = await documentFinished(t.url, id, 20_000);
    expect(doc.error).toBeNull();
    expect(doc.status).toBe('COMPLETED');
    expect(doc.insights?.wordCount).toBeGreaterThan(2);
  });
});
