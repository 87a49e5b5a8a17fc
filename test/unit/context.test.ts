import { describe, expect, it } from 'vitest';
import { lazy } from '../../src/context.ts';

describe('lazy context fields', () => {
  it('are made on the first read, once, and a copy of the context does not make them', () => {
    let made = 0;
    const context: Record<string, unknown> = { requestId: 'r1' };
    lazy(context, 'requestId', () => {
      made++;
      return 'made';
    });
    // Plugins copy the context on every request (the Prometheus plugin spreads it into its label input).
    const copy = { ...context };
    expect(made).toBe(0);
    expect(copy).not.toHaveProperty('requestId');
    expect(context.requestId).toBe('made');
    expect(context.requestId).toBe('made');
    expect(made).toBe(1);
    context.requestId = 'set';
    expect(context.requestId).toBe('set');
  });
});
