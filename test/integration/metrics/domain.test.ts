import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { pseudoRandomBytes, utf8 } from '../../support/extraction-fixtures.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';
import { type Sample, scrape, select, total } from '../../support/metrics.ts';
import { multipart, SUBMIT_WITH_FILES, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ NOTIFY_WAIT_SECONDS: '0', MAX_FILES: '2', CONTACT_SOURCES: 'website,referral' });
});
afterAll(() => t.stop());

const notes = utf8('Quarterly figures for the audit of the analytical engine.\n');
const brokenPdf = utf8('%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a real pdf\n');

describe('domain metrics', () => {
  it('start every alerted label set at 0, before anything happened', async () => {
    const s = await scrape(t.url);
    expect(total(s, 'dossier_documents_processed_total', { status: 'FAILED' })).toBe(0);
    expect(total(s, 'dossier_extraction_failures_total', { reason: 'malformed' })).toBe(0);
    expect(total(s, 'dossier_emails_failed_total', { kind: 'notification', permanent: 'true' })).toBe(0);
    expect(total(s, 'dossier_emails_sent_total', { kind: 'notification' })).toBe(0);
    expect(total(s, 'dossier_rate_limited_total', { scope: 'global' })).toBe(0);
    expect(total(s, 'dossier_contacts_total', { source: 'website' })).toBe(0);
    expect(total(s, 'dossier_uploads_total')).toBe(0);
  });

  it('follow a submission with an attachment through upload, extraction and mail', async () => {
    const submitted = await multipart(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput({ source: 'referral' }), attachments: [null] },
      [{ path: 'variables.attachments.0', name: 'notes.txt', content: notes, type: 'text/plain' }],
    );
    expect(submitted.errors).toBeUndefined();
    const broken = await multipart(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'broken.pdf', content: brokenPdf }],
      { staff: true },
    );
    expect(broken.errors).toBeUndefined();

    const s = await waitFor(
      async () => {
        const samples = await scrape(t.url);
        const done =
          total(samples, 'dossier_documents_processed_total', { status: 'COMPLETED' }) === 1 &&
          total(samples, 'dossier_documents_processed_total', { status: 'FAILED' }) === 1 &&
          total(samples, 'dossier_emails_sent_total', { kind: 'notification' }) === 1;
        return done && samples;
      },
      15_000,
      'both documents processed and the notification sent',
    );
    expect(total(s, 'dossier_contacts_total', { source: 'referral' })).toBe(1);
    expect(total(s, 'dossier_contacts_total', { source: 'website' })).toBe(0);
    expect(total(s, 'dossier_uploads_total')).toBe(2);
    expect(total(s, 'dossier_upload_bytes_total')).toBe(notes.length + brokenPdf.length);
    expect(total(s, 'dossier_extraction_duration_seconds_count', { type: 'text/plain' })).toBe(1);
    expect(total(s, 'dossier_extraction_duration_seconds_bucket', { type: 'text/plain', le: '+Inf' })).toBe(
      1,
    );
    expect(total(s, 'dossier_extraction_failures_total', { reason: 'malformed' })).toBe(1);
    expect(total(s, 'dossier_extraction_failures_total')).toBe(1);
    expect(total(s, 'dossier_emails_failed_total')).toBe(0);
  });

  it('count sources outside CONTACT_SOURCES as `other`: 300 random ones add no series', async () => {
    const before = select(await scrape(t.url), 'dossier_contacts_total').length;
    const sources = Array.from({ length: 300 }, () => `campaign-${randomUUID()}`);
    for (let i = 0; i < sources.length; i += 30) {
      const batch = sources
        .slice(i, i + 30)
        .map((source) => t.gql(SUBMIT, { input: contactInput({ source }) }));
      for (const r of await Promise.all(batch)) expect(r.errors).toBeUndefined();
    }
    const s = await scrape(t.url);
    expect(
      select(s, 'dossier_contacts_total')
        .map((x) => x.labels.source)
        .sort(),
    ).toEqual(['other', 'referral', 'website']);
    expect(select(s, 'dossier_contacts_total')).toHaveLength(before);
    expect(total(s, 'dossier_contacts_total', { source: 'other' })).toBe(300);
  });

  it('count refused files by reason', async () => {
    const refusedType = await multipart(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'blob.bin', content: pseudoRandomBytes(4096) }],
      { staff: true },
    );
    expect(refusedType.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const three = [0, 1, 2].map((i) => ({
      path: `variables.attachments.${i}`,
      name: `n${i}.txt`,
      content: notes,
    }));
    const tooMany = await multipart(
      t.url,
      SUBMIT_WITH_FILES,
      { input: contactInput(), attachments: [null, null, null] },
      three,
    );
    expect(tooMany.errors).toHaveLength(1);
    const s = await scrape(t.url);
    expect(total(s, 'dossier_uploads_refused_total', { reason: 'type' })).toBe(1);
    expect(total(s, 'dossier_uploads_refused_total', { reason: 'too_many' })).toBe(1);
    expect(total(s, 'dossier_uploads_refused_total')).toBe(2);
  });

  it('time searches and count the ones with no hit', async () => {
    const r = await t.staff<{ searchDocuments: { totalHits: number } }>(
      'query Find($q: String!) { searchDocuments(query: $q) { totalHits } }',
      { q: 'zyxwvutsnothing' },
    );
    expect(r.data?.searchDocuments.totalHits).toBe(0);
    const s: Sample[] = await scrape(t.url);
    expect(total(s, 'dossier_search_duration_seconds_count', { engine: 'postgres' })).toBe(1);
    expect(total(s, 'dossier_search_zero_hits_total')).toBe(1);
    expect(total(s, 'dossier_search_stale_hits_dropped_total')).toBe(0);
  });
});
