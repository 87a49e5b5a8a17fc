import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const MANIFEST = 'manifest.json';
const FORMAT = 'dossier-backup/1';

// Paths stay inside the backup directory: relative, no `.` or `..` segment.
const relativePath = z
  .string()
  .regex(/^(database|objects)\/[^\\\0]+$/)
  .refine((p) => p.split('/').every((part) => part !== '' && part !== '.' && part !== '..'));
const file = z.object({
  path: relativePath,
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const table = file.extend({
  schema: z.string(),
  table: z.string(),
  columns: z.array(z.string()).min(1),
  rows: z.number().int().min(0),
});
const object = file.extend({ key: z.string() });

const manifestSchema = z.object({
  format: z.literal(FORMAT),
  createdAt: z.iso.datetime(),
  /** Migrations applied to the database when it was dumped, oldest first. */
  migrations: z.array(z.string()),
  tables: z.array(table),
  objects: z.array(object),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TableEntry = z.infer<typeof table>;
export type ObjectEntry = z.infer<typeof object>;

export class BackupError extends Error {}

/** Size and SHA-256 of a file, streamed. */
export async function digestFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function newManifest(parts: Omit<Manifest, 'format' | 'createdAt'>): Manifest {
  return { format: FORMAT, createdAt: new Date().toISOString(), ...parts };
}

/** Written last: a directory without a manifest is an unfinished backup. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
}

export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch {
    throw new BackupError(`${dir} has no ${MANIFEST}: not a backup, or an unfinished one`);
  }
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BackupError(`${dir}/${MANIFEST} is not a Dossier backup manifest`);
  return parsed.data;
}

/** Reads every file the manifest lists back and compares size and checksum; throws naming each mismatch. */
export async function verifyBackup(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  const problems: string[] = [];
  for (const entry of [...manifest.tables, ...manifest.objects]) {
    const actual = await digestFile(join(dir, entry.path)).catch(() => null);
    if (!actual) problems.push(`${entry.path}: missing`);
    else if (actual.bytes !== entry.bytes || actual.sha256 !== entry.sha256)
      problems.push(`${entry.path}: checksum mismatch`);
  }
  if (problems.length > 0) throw new BackupError(`backup ${dir} is damaged:\n  ${problems.join('\n  ')}`);
  return manifest;
}
