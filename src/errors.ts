import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE';

const httpStatus: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

/** An expected failure: reaches the client unmasked, with `extensions.code`. */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, http: { status: httpStatus[code] }, ...extensions } });
    this.code = code;
  }
}

export const badInput = (message: string, issues: { path: (string | number)[]; message: string }[]) =>
  new AppError('BAD_USER_INPUT', message, { issues });

/** Thrown by adapters when their backing system cannot be reached; becomes SERVICE_UNAVAILABLE. */
export class UnavailableError extends AppError {
  constructor(dependency: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `${dependency} is unavailable, try again later`, { dependency });
    if (cause !== undefined) this.cause = cause;
  }
}

/** The server cannot start for a reason one line explains (with the fix); entry points print it, no stack. */
export class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** For entry points: a StartupError printed as its one line, exit 1; anything else rethrown. */
export function exitOnStartupError(error: unknown): never {
  if (!(error instanceof StartupError)) throw error;
  console.error(error.message);
  process.exit(1);
}

/**
 * The client went away mid-request (an upload cut off). Nobody reads the answer; it is counted under
 * its own code and logged at info, never as a server error.
 */
export class ClientAbortedError extends GraphQLError {
  constructor() {
    super('The client closed the request', { extensions: { code: 'CLIENT_ABORTED', http: { status: 499 } } });
  }
}

/** graphql-upload-ts rejects a file whose request was disconnected with status 499. */
export const isClientAbort = (err: unknown): boolean =>
  err instanceof ClientAbortedError || (err as { status?: number } | null)?.status === 499;
