import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { contactInput } from '../../support/factories.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';

describe('when object storage is down', () => {
  let s3: S3Peer;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Peer();
    t = await startTestApp(s3.env('dossier-docs'));
  });
  afterAll(() => t.stop());

  it('answers SERVICE_UNAVAILABLE and writes nothing', async () => {
    await s3.stop();
    const r = await multipart(t.url, SUBMIT_WITH_FILES, { input: contactInput(), attachments: [null] }, [
      { path: 'variables.attachments.0', name: 'notes.txt', content: 'notes that cannot be stored' },
    ]);
    expect(r.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const [rows] = await query<{ contacts: number; documents: number }>(
      t.databaseUrl,
      'select (select count(*) from contacts)::int as contacts, (select count(*) from documents)::int as documents',
    );
    expect(rows).toEqual({ contacts: 0, documents: 0 });
    const ready = (await (await fetch(`${t.url}/ready`)).json()) as { dependencies: { storage: string } };
    expect(ready.dependencies.storage).toBe('down');
  });
});
