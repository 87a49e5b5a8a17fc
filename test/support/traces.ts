import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

/** Every store a submission can reach, as a test sees them. */
export interface Stores {
  databaseUrl: string;
  /** Directories searched file by file: names and contents (the data dir, s3rver's directory). */
  dirs: string[];
  meili?: { url: string; apiKey?: string };
  /** The log lines written so far. */
  logs?: string[];
}

/** What to look for: text (case-insensitive) and file contents by sha256 (a compressed PDF hides its text). */
export interface Needles {
  text: string[];
  sha256?: string[];
  /** Searched in pg-boss's tables only (ids are expected in the erasure's own record and the audit). */
  jobText?: string[];
}

async function* files(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(e.parentPath, e.name);
    if (e.isDirectory()) yield* files(path);
    else if (e.isFile()) yield path;
  }
}

/**
 * Searches every store for the needles: every table of every schema of the database (pg-boss's
 * included; PostgreSQL's own catalogs excepted), every file under `dirs`, every Meilisearch index,
 * the logs. Answers where each was found, e.g. `table public.contacts: zqx…`; empty when none.
 */
export async function findTraces(stores: Stores, needles: Needles): Promise<string[]> {
  const found: string[] = [];
  const text = needles.text.map((t) => t.toLowerCase());
  const has = (s: string) => text.filter((t) => s.toLowerCase().includes(t));

  const client = new pg.Client({ connectionString: stores.databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
    );
    for (const { schema, name } of tables) {
      const patterns = [...text, ...(schema === 'pgboss' ? (needles.jobText ?? []) : [])];
      for (const p of patterns) {
        const { rows } = await client.query<{ n: number }>(
          `select count(*)::int as n from "${schema}"."${name}" t where t::text ilike $1`,
          [`%${p}%`],
        );
        if (rows[0]!.n > 0) {
          // pg-boss rows say which job it is, so a leftover can be traced to what made it.
          const { rows: jobs } =
            schema === 'pgboss' && name === 'job'
              ? await client.query(
                  `select name, state, data, output from pgboss.job t where t::text ilike $1`,
                  [`%${p}%`],
                )
              : { rows: [] };
          found.push(
            `table ${schema}.${name}: ${p} (${rows[0]!.n} rows)${jobs.length ? ` ${JSON.stringify(jobs)}` : ''}`,
          );
        }
      }
    }
  } finally {
    await client.end();
  }

  for (const dir of stores.dirs) {
    for await (const path of files(dir)) {
      for (const t of has(path)) found.push(`file name ${path}: ${t}`);
      const bytes = await readFile(path);
      for (const t of has(bytes.toString('latin1'))) found.push(`file ${path}: ${t}`);
      const sum = createHash('sha256').update(bytes).digest('hex');
      if (needles.sha256?.includes(sum)) found.push(`file ${path}: the uploaded bytes`);
    }
  }

  if (stores.meili) {
    const headers: Record<string, string> = stores.meili.apiKey
      ? { authorization: `Bearer ${stores.meili.apiKey}` }
      : {};
    const get = async (path: string) => (await fetch(`${stores.meili!.url}${path}`, { headers })).json();
    const { results } = (await get('/indexes?limit=1000')) as { results: { uid: string }[] };
    for (const { uid } of results) {
      const docs = JSON.stringify(await get(`/indexes/${uid}/documents?limit=100000`));
      for (const t of has(docs)) found.push(`meilisearch index ${uid}: ${t}`);
    }
  }

  for (const line of stores.logs ?? [])
    for (const t of has(line)) found.push(`log: ${t}: ${line.slice(0, 300)}`);
  return found;
}

/** Lower-case letters only, so the PostgreSQL engine keeps it whole as a word. */
export const marker = () =>
  `zqx${Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;
