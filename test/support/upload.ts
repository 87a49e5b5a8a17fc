import type { GqlResponse } from './app.ts';
import { STAFF_TOKEN } from './app.ts';

export interface UploadFile {
  /** Variable path, e.g. `variables.file` or `variables.attachments.0`. */
  path: string;
  name: string;
  content: Uint8Array | string;
  type?: string;
}

/** A GraphQL multipart request (the spec that graphql-upload implements), as a browser would send it. */
export async function multipart<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  files: UploadFile[],
  opts: {
    staff?: boolean;
    csrf?: boolean;
    headers?: Record<string, string>;
    /** The request path; `/graphql` unless another spelling is tried. */
    path?: string;
    /** Form fields sent between `map` and the files. */
    extraFields?: number;
  } = {},
): Promise<GqlResponse<T>> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((f, i) => [String(i), [f.path]]))));
  for (let i = 0; i < (opts.extraFields ?? 0); i++) form.append(`extra${i}`, 'x');
  files.forEach((f, i) => {
    form.append(
      String(i),
      new Blob([typeof f.content === 'string' ? f.content : new Uint8Array(f.content)], {
        type: f.type ?? 'application/octet-stream',
      }),
      f.name,
    );
  });
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.csrf !== false) headers['apollo-require-preflight'] = 'true';
  if (opts.staff) headers.authorization = `Bearer ${STAFF_TOKEN}`;
  const res = await fetch(`${url}${opts.path ?? '/graphql'}`, { method: 'POST', body: form, headers });
  const body = (await res.json()) as { data?: T; errors?: GqlResponse<T>['errors'] };
  return { status: res.status, headers: res.headers, ...body };
}

export const SUBMIT_WITH_FILES = /* GraphQL */ `
  mutation Submit($input: ContactInput!, $attachments: [Upload!], $key: String) {
    submitContact(input: $input, attachments: $attachments, idempotencyKey: $key) {
      contact { id }
      documents { id filename contentType size sha256 status }
    }
  }
`;

export const UPLOAD = /* GraphQL */ `
  mutation Upload($file: Upload!, $contactId: ID, $documentType: String) {
    uploadDocument(file: $file, contactId: $contactId, documentType: $documentType) {
      id filename contentType documentType size sha256 status contact { id }
    }
  }
`;
