import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { IsolationLevel } from '@mikro-orm/core';
import type { Orm } from '../db/orm.ts';
import type { TableEntry } from './manifest.ts';

type Em = Orm['em'];
const BATCH = 500;

/** A quoted, schema-qualified identifier from catalog names. */
export const qualified = (schema: string, table: string) =>
  `"${schema.replaceAll('"', '""')}"."${table.replaceAll('"', '""')}"`;
const quoted = (column: string) => `"${column.replaceAll('"', '""')}"`;

/** The columns a row can be written with (neither generated nor dropped), in table order. */
export async function insertableColumns(em: Em, schema: string, table: string): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>(
    `select a.attname as name from pg_attribute a
       join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ? and c.relname = ? and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      order by a.attnum`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

export interface DumpSpec {
  schema: string;
  table: string;
  /** SQL condition on the rows to keep, e.g. jobs still to run. */
  where?: string;
}

/**
 * Writes each table as JSON lines (one `row_to_json` per row), all in one repeatable-read snapshot,
 * so the files are consistent with each other. Runs through a cursor: memory stays one batch.
 */
export async function dumpTables(
  em: Em,
  specs: DumpSpec[],
  pathOf: (spec: DumpSpec) => { path: string; file: string },
): Promise<TableEntry[]> {
  return em.transactional(
    async (tx) => {
      const entries: TableEntry[] = [];
      for (const spec of specs) {
        const columns = await insertableColumns(tx, spec.schema, spec.table);
        const { path, file } = pathOf(spec);
        const out = createWriteStream(file, { flags: 'wx' });
        const hash = createHash('sha256');
        let bytes = 0;
        let rows = 0;
        const select = `select ${columns.map(quoted).join(', ')} from ${qualified(spec.schema, spec.table)}${spec.where ? ` where ${spec.where}` : ''}`;
        await tx.execute(
          `declare dump no scroll cursor for select row_to_json(t)::text as r from (${select}) t`,
        );
        for (;;) {
          const batch = await tx.execute<{ r: string }[]>(`fetch ${BATCH} from dump`);
          if (batch.length === 0) break;
          const chunk = Buffer.from(`${batch.map((b) => b.r).join('\n')}\n`);
          hash.update(chunk);
          bytes += chunk.length;
          rows += batch.length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        await tx.execute('close dump');
        out.end();
        await finished(out);
        entries.push({
          schema: spec.schema,
          table: spec.table,
          path,
          columns,
          rows,
          bytes,
          sha256: hash.digest('hex'),
        });
      }
      return entries;
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}

/**
 * Inserts a dumped table's rows in batches through `json_populate_recordset`, with the columns both
 * the dump and the table have (a column added since gets its default). `filter` keeps some rows only.
 */
export async function loadTable(em: Em, entry: TableEntry, file: string, filter?: string): Promise<number> {
  const target = new Set(await insertableColumns(em, entry.schema, entry.table));
  const columns = entry.columns
    .filter((c) => target.has(c))
    .map(quoted)
    .join(', ');
  const table = qualified(entry.schema, entry.table);
  const insert = `insert into ${table} (${columns}) select ${columns} from json_populate_recordset(null::${table}, ?::json)${filter ? ` where ${filter}` : ''}`;
  let batch: string[] = [];
  let loaded = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await em.execute(insert, [`[${batch.join(',')}]`]);
    loaded += batch.length;
    batch = [];
  };
  for await (const line of createInterface({
    input: createReadStream(file),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line === '') continue;
    batch.push(line);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return loaded;
}
