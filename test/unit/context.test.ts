import { describe, expect, it } from 'vitest';
import { type Context, lazyFields } from '../../src/context.ts';

describe('lazy context fields', () => {
  it('are made on the first read, once, and a copy of the context does not make them', () => {
    let made = 0;
    const withFields = lazyFields({
      requestId: () => {
        made++;
        return 'made';
      },
    });
    const context = { transport: 'http' } as Partial<Context>;
    withFields(context);
    // Plugins copy the context on every request.
    const copy = { ...context };
    expect(made).toBe(0);
    expect(copy).not.toHaveProperty('requestId');
    expect(context.requestId).toBe('made');
    expect(context.requestId).toBe('made');
    expect(made).toBe(1);
    context.requestId = 'set';
    expect(context.requestId).toBe('set');
  });

  it('are made from the context they are read on, and contexts keep one shape', () => {
    const withFields = lazyFields({ clientIp: (c) => `ip of ${c.requestId}` });
    const a = { requestId: 'a' } as Partial<Context>;
    const b = { requestId: 'b' } as Partial<Context>;
    withFields(a);
    withFields(b);
    expect([a.clientIp, b.clientIp]).toEqual(['ip of a', 'ip of b']);
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
  });

  it('keep the prototype chain of a context made by Object.create', () => {
    const withFields = lazyFields({ clientIp: () => 'made' });
    const parent = { requestId: 'p' };
    const child = Object.create(parent) as Partial<Context>;
    withFields(child);
    expect(child.requestId).toBe('p');
    expect(child.clientIp).toBe('made');
  });
});
