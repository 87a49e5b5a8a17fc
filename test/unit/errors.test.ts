import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { isDatabaseDown, maskError } from '../../src/http/errors.ts';

const located = (original: Error) =>
  new GraphQLError(original.message, { path: ['contact'], originalError: original });

describe('maskError', () => {
  it('masks an unexpected error, keeping its path', () => {
    const masked = maskError(
      located(new Error('relation "secret_table" does not exist')),
      'Unexpected error.',
    ) as GraphQLError;
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(masked.path).toEqual(['contact']);
  });

  it('passes expected errors through', () => {
    const err = located(new AppError('CONFLICT', 'Used before'));
    expect(maskError(err, 'Unexpected error.')).toBe(err);
  });

  it('turns a lost database into SERVICE_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const masked = maskError(located(refused), 'Unexpected error.') as GraphQLError;
    expect(masked.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(masked.message).not.toContain('5432');
  });
});

describe('isDatabaseDown', () => {
  it('knows connection failures from query failures', () => {
    expect(isDatabaseDown(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(
      isDatabaseDown(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) })),
    ).toBe(true);
    expect(isDatabaseDown(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});

describe('variable errors', () => {
  it('get BAD_USER_INPUT; other coded errors are left alone', () => {
    const bad = new GraphQLError(
      'Variable "$limit" got invalid value "x"; Int cannot represent non-integer value: "x"',
    );
    const masked = maskError(bad, 'Unexpected error.') as GraphQLError;
    expect(masked.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      issues: [{ path: ['variables', 'limit'] }],
    });
    const validation = new GraphQLError('Cannot query field "nope"', {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(maskError(validation, 'Unexpected error.')).toBe(validation);
  });
});
