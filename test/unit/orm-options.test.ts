import { describe, expect, it } from 'vitest';
import { tlsFor } from '../../src/services/db/orm.ts';

describe('DATABASE_URL sslmode', () => {
  it('maps to the driver TLS option that MikroORM would otherwise drop', () => {
    expect(tlsFor('postgres://u:p@db:5432/app')).toEqual({});
    expect(tlsFor('postgres://u:p@db:5432/app?sslmode=disable')).toEqual({});
    expect(tlsFor('postgres://u:p@db:5432/app?sslmode=require')).toEqual({
      ssl: { rejectUnauthorized: false },
    });
    expect(tlsFor('postgres://u:p@db:5432/app?sslmode=no-verify')).toEqual({
      ssl: { rejectUnauthorized: false },
    });
    expect(tlsFor('postgres://u:p@db:5432/app?sslmode=verify-full')).toEqual({
      ssl: { rejectUnauthorized: true },
    });
  });
});
