import { type GqlResponse, postGraphQL, STAFF_TOKEN } from './app.ts';

export type ScopeName = 'READ' | 'WRITE' | 'ADMIN';

export const CREATE_TOKEN = /* GraphQL */ `
  mutation Create($name: String!, $scopes: [Scope!]!, $expiresAt: DateTime) {
    createApiToken(name: $name, scopes: $scopes, expiresAt: $expiresAt) {
      token
      apiToken { id name scopes createdAt expiresAt lastUsedAt revokedAt }
    }
  }
`;

export interface CreatedToken {
  token: string;
  apiToken: {
    id: string;
    name: string;
    scopes: ScopeName[];
    expiresAt: string | null;
    lastUsedAt: string | null;
    revokedAt: string | null;
  };
}

/** An API token made by root over the API; its secret and row. */
export async function createToken(
  url: string,
  scopes: ScopeName[],
  opts: { name?: string; expiresAt?: Date } = {},
): Promise<CreatedToken> {
  const r = await postGraphQL<{ createApiToken: CreatedToken }>(
    url,
    CREATE_TOKEN,
    {
      name: opts.name ?? `test ${scopes.join('+')}`,
      scopes,
      expiresAt: opts.expiresAt?.toISOString() ?? null,
    },
    { authorization: `Bearer ${STAFF_TOKEN}` },
  );
  if (!r.data?.createApiToken) throw new Error(`createApiToken failed: ${JSON.stringify(r.errors)}`);
  return r.data.createApiToken;
}

/** A GraphQL request with `Authorization: Bearer <token>`. */
export const asBearer = <T = Record<string, unknown>>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResponse<T>> => postGraphQL<T>(url, query, variables, { authorization: `Bearer ${token}` });

export const VIEWER = '{ viewer { id name kind scopes } }';

export const errorCode = (r: GqlResponse<unknown>) => r.errors?.[0]?.extensions?.code;
