import { randomUUID } from 'node:crypto';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../../src/schema/index.ts';
import { type GqlResponse, postGraphQL, startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput } from '../../support/factories.ts';
import { createToken, type ScopeName } from '../../support/identity.ts';
import { openSse } from '../../support/sse.ts';
import { multipart, type UploadFile } from '../../support/upload.ts';

/** Root fields anyone may call; every other field of Query, Mutation and Subscription is staff-only. */
const PUBLIC = new Set(['Mutation.submitContact']);
const STAFF_SCOPES = ['staff', 'read', 'write', 'admin'] as const;
type Required = (typeof STAFF_SCOPES)[number];

// biome-ignore lint/suspicious/noExplicitAny: graphql-js types a field's extensions loosely; Pothos keeps its options there.
type AnyField = GraphQLField<unknown, unknown, any>;

const declared = (field: AnyField): Record<string, unknown> | undefined =>
  (field.extensions as { pothosOptions?: { authScopes?: Record<string, unknown> } }).pothosOptions
    ?.authScopes;

/** The one scope a staff field declares, or a description of what is wrong with it. */
function requiredScope(field: AnyField): Required | string {
  const scopes = declared(field);
  if (!scopes || typeof scopes !== 'object') return 'declares no authScopes';
  const keys = Object.keys(scopes).filter((k) => scopes[k] === true);
  if (keys.length !== 1 || !STAFF_SCOPES.includes(keys[0] as Required))
    return `declares ${JSON.stringify(scopes)}, not exactly one of ${STAFF_SCOPES.join(', ')}`;
  return keys[0] as Required;
}

/** A value of the type that passes GraphQL validation (uploads travel apart, as files). */
function sample(type: GraphQLInputType, uploads: string[], path: string): unknown {
  if (isNonNullType(type)) return sample(type.ofType, uploads, path);
  if (isListType(type)) return [sample(type.ofType, uploads, `${path}.0`)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, sample(f.type, uploads, `${path}.${f.name}`)]),
    );
  const values: Record<string, unknown> = {
    ID: randomUUID(),
    String: 'x',
    Int: 1,
    Float: 1,
    Boolean: true,
    DateTime: new Date(Date.now() + 86_400_000).toISOString(),
  };
  if (type.name === 'Upload') {
    uploads.push(path);
    return null;
  }
  if (!(type.name in values)) throw new Error(`no sample for scalar ${type.name}: add one`);
  return values[type.name];
}

const selection = (t: GraphQLNamedType) => (isObjectType(t) ? ' { __typename }' : '');
const argsOf = (args: readonly GraphQLArgument[]) => args.filter((a) => isNonNullType(a.type));

interface Case {
  name: string;
  scope: Required;
  send(url: string, token: string | null): Promise<GqlResponse<unknown>>;
}

async function send(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  uploads: string[],
  token: string | null,
) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (!uploads.length) return postGraphQL(url, query, variables, headers);
  const files: UploadFile[] = uploads.map((path) => ({ path, name: 'sample.txt', content: 'sample text' }));
  return multipart(url, query, variables, files, { headers });
}

/** Subscriptions over SSE: the first event's errors, or none seen within a short wait. */
async function subscribeOnce(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token: string | null,
) {
  const sse = await openSse(url, query, variables, token);
  const text = await sse.read((seen) => /^data: \{/m.test(seen), 1000);
  sse.close();
  const data = /^data: (\{.*\})$/m.exec(text)?.[1];
  return { status: sse.res.status, headers: sse.res.headers, ...(data ? JSON.parse(data) : { data: null }) };
}

function rootCase(kind: 'query' | 'mutation' | 'subscription', field: AnyField, scope: Required): Case {
  const uploads: string[] = [];
  const args = argsOf(field.args);
  const variables = Object.fromEntries(
    args.map((a) => [a.name, sample(a.type, uploads, `variables.${a.name}`)]),
  );
  const params = args.map((a) => `$${a.name}: ${a.type}`).join(', ');
  const call = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const query = `${kind}${params ? `(${params})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection(getNamedType(field.type))} }`;
  return {
    name: `${kind} ${field.name}`,
    scope,
    send: (url, token) =>
      kind === 'subscription'
        ? subscribeOnce(url, query, variables, token)
        : send(url, query, variables, uploads, token),
  };
}

/** Staff fields on the types the public submitContact answers with, reached through it (with an attachment, so documents exist). */
function nestedCases(): Case[] {
  const cases: Case[] = [];
  const submit = schema.getMutationType()!.getFields().submitContact!;
  const seen = new Set<string>();
  const walk = (type: GraphQLNamedType, path: string[]) => {
    if (!isObjectType(type) || seen.has(type.name)) return;
    seen.add(type.name);
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (declared(field as AnyField)) {
        const scope = requiredScope(field as AnyField);
        const uploads = ['variables.attachments.0'];
        const optional = argsOf(field.args).map(
          (a) => `${a.name}: ${JSON.stringify(sample(a.type, [], ''))}`,
        );
        const leaf = `${field.name}${optional.length ? `(${optional.join(', ')})` : ''}${selection(named)}`;
        const query = `mutation($input: ContactInput!, $attachments: [Upload!]) { submitContact(input: $input, attachments: $attachments) { ${path.reduceRight((inner, p) => `${p} { ${inner} }`, leaf)} } }`;
        cases.push({
          name: `${type.name}.${field.name} (through submitContact)`,
          scope: scope as Required,
          send: (url, token) =>
            send(url, query, { input: contactInput(), attachments: [null] }, uploads, token),
        });
      } else walk(named, [...path, field.name]);
    }
  };
  walk(getNamedType(submit.type), []);
  return cases;
}

const roots = [
  ['query', schema.getQueryType()],
  ['mutation', schema.getMutationType()],
  ['subscription', schema.getSubscriptionType()],
] as const;

const staffRoots = roots.flatMap(([kind, type]) =>
  Object.values(type?.getFields() ?? {})
    .filter((f) => !PUBLIC.has(`${type!.name}.${f.name}`))
    .map((f) => ({ kind, type: type!.name, field: f as AnyField })),
);

describe('every staff field declares its scope', () => {
  it.each(staffRoots.map((r) => [`${r.type}.${r.field.name}`, r.field] as const))('%s', (_name, field) => {
    expect(STAFF_SCOPES).toContain(requiredScope(field));
  });

  it('public fields declare public', () => {
    for (const name of PUBLIC) {
      const [type, fieldName] = name.split('.') as [string, string];
      const field = (schema.getType(type) as { getFields(): Record<string, AnyField> }).getFields()[
        fieldName
      ]!;
      expect(declared(field)).toEqual({ public: true });
    }
  });
});

const cases: Case[] = [
  ...staffRoots.map((r) => rootCase(r.kind, r.field, requiredScope(r.field) as Required)),
  ...nestedCases(),
];

let t: TestApp;
const tokens = {} as Record<ScopeName, string> & { allBut: Record<ScopeName, string> };
beforeAll(async () => {
  t = await startTestApp();
  tokens.allBut = {} as Record<ScopeName, string>;
  const all: ScopeName[] = ['READ', 'WRITE', 'ADMIN'];
  for (const s of all) {
    tokens[s] = (await createToken(t.url, [s])).token;
    tokens.allBut[s] = (
      await createToken(
        t.url,
        all.filter((o) => o !== s),
      )
    ).token;
  }
});
afterAll(() => t?.stop());

const codes = (r: GqlResponse<unknown>) => (r.errors ?? []).map((e) => e.extensions?.code);

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  it('without a token: UNAUTHENTICATED', async () => {
    expect(codes(await c.send(t.url, null))).toContain('UNAUTHENTICATED');
  });

  it.skipIf(c.scope === 'staff')('with a token lacking its scope: FORBIDDEN', async () => {
    const scope = c.scope.toUpperCase() as ScopeName;
    const r = await c.send(t.url, tokens.allBut[scope]);
    expect(codes(r)).toContain('FORBIDDEN');
    expect(codes(r)).not.toContain('UNAUTHENTICATED');
  });

  it('with its scope (and nothing else): allowed', async () => {
    const token = c.scope === 'staff' ? tokens.READ : tokens[c.scope.toUpperCase() as ScopeName];
    const r = await c.send(t.url, token);
    expect(r.status).toBeLessThan(500);
    expect(codes(r)).not.toContain('UNAUTHENTICATED');
    expect(codes(r)).not.toContain('FORBIDDEN');
  });
});
