import type { TestApp } from './app.ts';
import { waitFor } from './wait.ts';

export interface FinishedDocument {
  id: string;
  status: 'COMPLETED' | 'FAILED';
  error: string | null;
  insights: { wordCount: number } | null;
}

const DOCUMENT = `query($id: ID!) { document(id: $id) { id status error insights { wordCount } } }`;

/** Polls `document(id)` as staff until it is COMPLETED or FAILED. */
export const documentFinished = (t: Pick<TestApp, 'staff'>, id: string, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const d = (await t.staff<{ document: FinishedDocument }>(DOCUMENT, { id })).data?.document;
      return d && (d.status === 'COMPLETED' || d.status === 'FAILED') ? d : null;
    },
    timeoutMs,
    `document ${id} to finish`,
  );
