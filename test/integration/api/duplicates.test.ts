import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput } from '../../support/factories.ts';
import { multipart, SUBMIT_WITH_FILES } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ NOTIFY_WAIT_SECONDS: '20' });
});
afterAll(() => t.stop());

const CV = 'Curriculum vitae of Grace Hopper: compilers, COBOL, naval reserve.\n';

async function submit(name: string, files: { name: string; content: string }[]) {
  const r = await multipart<{
    submitContact: { contact: { id: string }; documents: { id: string }[] };
  }>(
    t.url,
    SUBMIT_WITH_FILES,
    { input: contactInput({ name }), attachments: files.map(() => null) },
    files.map((f, i) => ({ path: `variables.attachments.${i}`, ...f })),
  );
  expect(r.errors).toBeUndefined();
  return {
    contactId: r.data!.submitContact.contact.id,
    ids: r.data!.submitContact.documents.map((d) => d.id),
  };
}

const DUPLICATES = `query($id: ID!) { document(id: $id) { id duplicates { id filename contact { id } } } }`;
const duplicatesOf = async (id: string) =>
  (
    await t.staff<{ document: { duplicates: { id: string; filename: string; contact: { id: string } }[] } }>(
      DUPLICATES,
      { id },
    )
  ).data!.document.duplicates;

/** The text of the owner's email about a contact, from the outbox (the default mailer). */
async function ownerMail(contactId: string): Promise<string> {
  const dir = join(t.dataDir, 'outbox');
  return waitFor(
    async () => {
      for (const file of (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.eml'))) {
        const mail = await simpleParser(await readFile(join(dir, file)));
        if (mail.headers.get('x-dossier-contact-id') === contactId && mail.subject?.startsWith('New contact'))
          return mail.text ?? '';
      }
      return null;
    },
    30_000,
    'the owner email',
  );
}

describe('duplicates', () => {
  it('lists earlier documents with the same bytes across contacts, and marks them in the owner email', async () => {
    const first = await submit('Ada First', [{ name: 'cv.txt', content: CV }]);
    const second = await submit('Bob Second', [
      { name: 'resume-copy.txt', content: CV },
      { name: 'letter.txt', content: 'A different letter altogether.\n' },
    ]);
    const third = await submit('Cy Third', [{ name: 'cv-again.txt', content: CV }]);

    expect(await duplicatesOf(first.ids[0]!)).toEqual([]);
    expect(await duplicatesOf(second.ids[0]!)).toEqual([
      { id: first.ids[0], filename: 'cv.txt', contact: { id: first.contactId } },
    ]);
    expect(await duplicatesOf(second.ids[1]!)).toEqual([]);
    expect((await duplicatesOf(third.ids[0]!)).map((d) => d.id)).toEqual([first.ids[0], second.ids[0]]);

    const FILTERED = `query($duplicate: Boolean!) {
      documents(filter: { duplicate: $duplicate }, orderBy: CREATED_AT_ASC) { totalCount edges { node { id } } }
    }`;
    const filtered = async (duplicate: boolean) =>
      (
        await t.staff<{ documents: { edges: { node: { id: string } }[] } }>(FILTERED, { duplicate })
      ).data!.documents.edges.map((e) => e.node.id);
    expect(await filtered(true)).toEqual([second.ids[0], third.ids[0]]);
    expect(await filtered(false)).toEqual([first.ids[0], second.ids[1]]);

    const mail = await ownerMail(second.contactId);
    expect(mail).toMatch(/resume-copy\.txt \(text\/plain, \d+ B\) \[duplicate of cv\.txt, received \d{4}-/);
    expect(mail).not.toMatch(/letter\.txt[^\n]*duplicate/);
    expect(await ownerMail(first.contactId)).not.toContain('duplicate of');
  });

  it('shows duplicates to staff only', async () => {
    const r = await multipart<{ submitContact: { documents: { duplicates: unknown[] }[] } }>(
      t.url,
      `mutation($input: ContactInput!, $attachments: [Upload!]) {
        submitContact(input: $input, attachments: $attachments) { documents { id duplicates { id } } }
      }`,
      { input: contactInput(), attachments: [null] },
      [{ path: 'variables.attachments.0', name: 'cv.txt', content: CV }],
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
