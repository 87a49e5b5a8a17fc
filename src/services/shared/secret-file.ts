import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The secret kept in `file`, or a new random one written there (0600) on first use.
 * Returns whether it was generated now, so a caller can print it once.
 */
export async function readOrCreateSecret(
  file: string,
  generate: () => string = () => randomBytes(32).toString('base64url'),
): Promise<{ secret: string; generated: boolean }> {
  if (existsSync(file)) return { secret: (await readFile(file, 'utf8')).trim(), generated: false };
  const secret = generate();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // wx: two processes starting together must not each write their own.
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { secret: (await readFile(file, 'utf8')).trim(), generated: false };
  }
  return { secret, generated: true };
}
