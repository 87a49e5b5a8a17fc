import { ConnectionException } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { AppError, UnavailableError } from '../errors.ts';
import { isPostgresUnavailable } from '../services/shared/connection-errors.ts';

/** True for errors that mean PostgreSQL cannot be reached, as opposed to a bad query. */
export const isDatabaseDown = (err: unknown): boolean =>
  err instanceof ConnectionException || isPostgresUnavailable(err);

// By name, not instanceof: a second copy of graphql (ESM beside CJS) must not unmask or mask wrongly.
const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === 'GraphQLError';

/**
 * graphql-js reports a variable that fails its type (a bad DateTime, a string for an Int) without a
 * code; it is the client's input, so it gets BAD_USER_INPUT with the variable as its path.
 */
function variableError(error: GraphQLError): GraphQLError | null {
  if (error.extensions?.code || error.path) return null;
  const match = /^Variable "\$(\w+)" got invalid value/.exec(error.message);
  if (!match) return null;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: {
      code: 'BAD_USER_INPUT',
      issues: [{ path: ['variables', match[1]], message: error.message }],
    },
  });
}

/** Expected errors pass through; a lost database is SERVICE_UNAVAILABLE; everything else is masked. */
export function maskError(error: unknown, message: string): Error {
  if (isGraphQLError(error)) {
    const original = error.originalError;
    if (!original || isGraphQLError(original)) return variableError(error) ?? error;
    if (isDatabaseDown(original)) {
      const unavailable = new UnavailableError('database');
      return new GraphQLError(unavailable.message, {
        nodes: error.nodes,
        path: error.path,
        extensions: unavailable.extensions,
      });
    }
    return new GraphQLError(message, {
      nodes: error.nodes,
      path: error.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  }
  if (error instanceof AppError) return error;
  return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}
