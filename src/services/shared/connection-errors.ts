/** Socket-level failures: the peer cannot be reached, whatever it is. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATE classes 08 (connection), 53 (resources), 57 (shutdown, cancelled by timeout).
const SQLSTATES = [
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  '53400',
  '57014',
  '57P01',
  '57P02',
  '57P03',
];
const UNAVAILABLE_CODES = new Set([...SQLSTATES, ...NETWORK_ERROR_CODES]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable|pool after calling end/i;

/** True when an error (or its cause) means PostgreSQL cannot serve us now, as opposed to a bad query. */
export function isPostgresUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  return e.cause ? isPostgresUnavailable(e.cause) : false;
}
