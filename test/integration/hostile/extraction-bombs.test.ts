import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../support/db.ts';
import { documentFinished } from '../../support/documents.ts';
import { makeInflatingPdf, makeLyingDocx, makePdf } from '../../support/extraction-fixtures.ts';
import {
  commandLine,
  descendantPids,
  dossierEnv,
  memoryKiB,
  resetPeak,
  type ServerProcess,
  startServerProcess,
  stopProcess,
  tempDir,
  uploadFile,
} from '../../support/processes.ts';

const GiB = 2 ** 30;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess;

// Its own process, so the server's memory can be read from /proc while it meets the bombs.
beforeAll(async () => {
  db = await createTestDatabase();
  const env = { EXTRACTION_RETRIES: '0' };
  server = await startServerProcess(dossierEnv(db.url, await tempDir('dossier-bombs-'), env));
  // Warm: the first extraction loads its modules, which is not what is measured.
  const { id } = await uploadFile(server.url, 'warm.pdf', await makePdf(['warm up']));
  expect((await documentFinished(server.url, id)).status).toBe('COMPLETED');
  // The pid measured is the server's own (not a wrapper), and extraction ran in a child of it.
  expect(commandLine(server.child.pid!)).toContain('src/main.ts');
  const children = descendantPids(server.child.pid!).map(commandLine);
  expect(children.some((c) => c.includes('extraction.child.ts'))).toBe(true);
}, 60_000);
afterAll(async () => {
  await stopProcess(server);
  await db.drop();
});

/** Uploads `content`; the document's final state and how far the server's RSS rose meanwhile (MiB). */
async function meet(name: string, content: Uint8Array) {
  const pid = server.child.pid!;
  await resetPeak(pid);
  const before = (await memoryKiB(pid)).rss;
  const { id } = await uploadFile(server.url, name, content);
  const doc = await documentFinished(server.url, id, 60_000);
  const growthMiB = ((await memoryKiB(pid)).peak - before) / 1024;
  console.info(`${name}: server RSS grew by ${growthMiB.toFixed(0)} MiB; ${doc.status}: ${doc.error}`);
  return { doc, growthMiB };
}

describe('decompression bombs', () => {
  it('a DOCX whose headers declare 4 KB while it inflates to 1 GiB fails with a reason; memory stays flat', async () => {
    const { doc, growthMiB } = await meet('lying.docx', makeLyingDocx(GiB));
    expect(doc.status).toBe('FAILED');
    expect(doc.error).toMatch(/\w/);
    expect(growthMiB).toBeLessThan(300);
  }, 90_000);

  it('a PDF whose content stream inflates to 1 GiB fails with a reason; memory stays flat', async () => {
    const { doc, growthMiB } = await meet('bomb.pdf', makeInflatingPdf(GiB));
    expect(doc.status).toBe('FAILED');
    expect(doc.error).toMatch(/memory|timeout/i);
    expect(growthMiB).toBeLessThan(300);
  }, 90_000);

  it('the server still answers and extracts afterwards', async () => {
    expect(server.child.exitCode).toBeNull();
    const { id } = await uploadFile(server.url, 'after.pdf', await makePdf(['still here after the bombs']));
    const doc = await documentFinished(server.url, id);
    expect(doc).toMatchObject({ status: 'COMPLETED', error: null });
  });
});
