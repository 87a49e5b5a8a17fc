/**
 * Inserts `count` contacts by SQL (fast enough for the 100,000 of bench:inbox), newest first every
 * 500 ms, two at a time sharing a timestamp so pages must break ties by id. Contact i has status
 * NEW, OPEN, REPLIED, ARCHIVED, SPAM by i % 5, tags {vip} when i % 4 = 0 and {urgent,vip} when i % 4 = 1, and every third
 * one has 1–3 documents.
 */
export async function seedContacts(
  run: (sql: string, params: unknown[]) => Promise<unknown>,
  opts: { count: number; source?: string; newest?: Date },
): Promise<void> {
  const newest = opts.newest ?? new Date(Date.now() - 60_000);
  await run(
    `insert into contacts (id, name, email, company, service, message, source, created_at, updated_at, status, tags)
     select gen_random_uuid(), 'Contact ' || i, 'person' || i || '@example.com',
            case when i % 2 = 0 then 'Company ' || (i % 500) end,
            (array['Audit', 'Training', 'Advice'])[1 + i % 3],
            'Message ' || i || ' about ' || (array['engines', 'compilers', 'looms', 'ledgers'])[1 + i % 4],
            $2, ts, ts, (array['NEW', 'OPEN', 'REPLIED', 'ARCHIVED', 'SPAM'])[1 + i % 5],
            case i % 4 when 0 then '{vip}'::text[] when 1 then '{urgent,vip}'::text[] else '{}'::text[] end
       from generate_series(0, $1::int - 1) i,
            lateral (select $3::timestamptz - (i / 2) * interval '500 milliseconds' as ts) t`,
    [opts.count, opts.source ?? 'seed', newest],
  );
  await run(
    `insert into documents (id, contact_id, filename, content_type, size, sha256, storage_key, status, created_at)
     select gen_random_uuid(), c.id, 'file-' || n || '.txt', 'text/plain', 100, repeat('0', 64),
            'documents/' || c.id || '/seed-' || n, 'COMPLETED', c.created_at
       from (select id, created_at, row_number() over (order by created_at, id) as i
               from contacts where source = $1) c,
            generate_series(1, 1 + (c.i / 3)::int % 3) n
      where c.i % 3 = 0`,
    [opts.source ?? 'seed'],
  );
}
