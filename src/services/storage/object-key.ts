/** Thrown for a key that is not a plain relative `/`-separated path: a bug in the caller, never user input. */
export class InvalidObjectKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidObjectKeyError';
  }
}

// S3's own limit, applied to every store so a key that works on disk also works on S3.
const MAX_KEY_BYTES = 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws InvalidObjectKeyError unless `key` is a relative path of non-empty segments, none `.` or `..`. */
export function assertObjectKey(key: string): void {
  const refuse = (reason: string) => {
    throw new InvalidObjectKeyError(key, reason);
  };
  if (typeof key !== 'string' || key.length === 0) refuse('empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) refuse(`longer than ${MAX_KEY_BYTES} bytes`);
  if (CONTROL.test(key)) refuse('control character');
  if (key.includes('\\')) refuse('backslash');
  if (key.startsWith('/')) refuse('absolute');
  for (const segment of key.split('/')) {
    if (segment === '') refuse('empty segment');
    if (segment === '.' || segment === '..') refuse('dot segment');
  }
}

/** Throws InvalidObjectKeyError unless `prefix` is a valid key followed by `/`, so it names a whole folder. */
export function assertObjectPrefix(prefix: string): void {
  if (!prefix.endsWith('/')) throw new InvalidObjectKeyError(prefix, 'a prefix must end in /');
  assertObjectKey(prefix.slice(0, -1));
}
