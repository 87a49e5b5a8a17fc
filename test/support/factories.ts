import { randomUUID } from 'node:crypto';

export const SUBMIT = /* GraphQL */ `
  mutation Submit($input: ContactInput!, $key: String) {
    submitContact(input: $input, idempotencyKey: $key) {
      contact { id name email company service message source createdAt }
      documents { id filename status }
    }
  }
`;

export function contactInput(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Ada Lovelace',
    email: `ada+${randomUUID().slice(0, 8)}@example.com`,
    company: 'Analytical Engines Ltd',
    service: 'Audit',
    message: 'We would like a review of our engine designs.',
    ...overrides,
  };
}
