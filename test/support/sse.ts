import { STAFF_TOKEN } from './app.ts';

/** A GraphQL subscription over SSE (as staff unless `token` says otherwise) whose text can be read. */
export async function openSse(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = STAFF_TOKEN,
) {
  const controller = new AbortController();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const reader = res.body!.getReader();
  let text = '';
  return {
    res,
    /** Reads until `until(text so far)` holds or `ms` pass; answers all the text read. */
    async read(until: (text: string) => boolean, ms: number): Promise<string> {
      const deadline = Date.now() + ms;
      while (!until(text) && Date.now() < deadline) {
        const next = await Promise.race([
          reader.read(),
          new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now()))),
        ]);
        if (!next || next.done) break;
        text += new TextDecoder().decode(next.value);
      }
      return text;
    },
    close: () => controller.abort(),
  };
}
