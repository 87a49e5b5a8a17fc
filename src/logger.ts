import { pino } from 'pino';

export type Logger = pino.Logger;

const EMAIL = /[^\s@<>()[\]\\,;:"'=]+@[^\s@<>()[\]\\,;:"'=]+\.[A-Za-z]{2,}/g;
// Fields with which database and driver errors carry row values, statements or their parameters.
const VALUE_FIELDS = ['detail', 'where', 'hint', 'sql', 'query', 'params', 'parameters', 'values', 'data'];

/**
 * pino's error serializer, minus personal data an error may carry: row values in a database error's
 * fields, and email addresses in messages (SES names the identities it refused), on the causes too.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const clean = (value: Record<string, unknown>, depth: number) => {
    for (const field of VALUE_FIELDS) delete value[field];
    for (const key of ['message', 'stack'] as const) {
      if (typeof value[key] === 'string') value[key] = (value[key] as string).replace(EMAIL, '[email]');
    }
    if (depth < 5 && value.cause && typeof value.cause === 'object')
      clean(value.cause as Record<string, unknown>, depth + 1);
  };
  clean(out, 0);
  return out;
}

/** JSON lines to stdout, or to `destination` (tests read what was logged). See docs/operations.md, "What is logged". */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'dossier' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError },
    redact: ['req.headers.authorization', 'authorization', 'connectionParams.authorization'],
  };
  return destination ? pino(options, destination) : pino(options);
}
