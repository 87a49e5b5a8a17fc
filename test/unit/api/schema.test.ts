import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../../src/schema/print.ts';

describe('schema.graphql', () => {
  it('matches the schema built from the code (run `npm run schema:print` after a change)', () => {
    const committed = readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8');
    expect(printedSchema()).toBe(committed);
  });

  it('keeps the contract of ARCHITECTURE.md', () => {
    const s = printedSchema();
    for (const line of [
      'submitContact(input: ContactInput!, attachments: [Upload!], idempotencyKey: String): SubmitContactPayload!',
      'uploadDocument(file: Upload!, contactId: ID, documentType: String): Document!',
      'searchDocuments(query: String!, filter: DocumentSearchFilter, limit: Int = 10, offset: Int = 0): DocumentSearchResult!',
      'documentProcessed(contactId: ID, documentId: ID): Document!',
      'document(id: ID!): Document',
      'contact(id: ID!): Contact',
    ]) {
      expect(s).toContain(line);
    }
  });
});
