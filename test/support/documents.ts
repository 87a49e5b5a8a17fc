import { postGraphQL, STAFF_TOKEN } from './app.ts';
import { waitFor } from './wait.ts';

export interface FinishedDocument {
  id: string;
  status: 'COMPLETED' | 'FAILED';
  error: string | null;
  insights: { wordCount: number } | null;
}

const DOCUMENT = `query($id: ID!) { document(id: $id) { id status error insights { wordCount } } }`;

/** Polls `document(id)` as staff (`token`) on the server at `url` until it is COMPLETED or FAILED. */
export const documentFinished = (url: string, id: string, timeoutMs = 30_000, token = STAFF_TOKEN) =>
  waitFor(
    async () => {
      const d = (
        await postGraphQL<{ document: FinishedDocument }>(
          url,
          DOCUMENT,
          { id },
          { authorization: `Bearer ${token}` },
        )
      ).data?.document;
      return d && (d.status === 'COMPLETED' || d.status === 'FAILED') ? d : null;
    },
    timeoutMs,
    `document ${id} to finish`,
  );
