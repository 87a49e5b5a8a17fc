import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationLabels, operationNamer } from '../../src/http/metrics-plugins.ts';

describe('operation labels', () => {
  const document = parse('query Inbox { __typename } mutation Triage { __typename }');

  it('label the operation a request names, else anonymous when the document has several', () => {
    const name = operationNamer(100, null);
    expect(operationLabels(name, document, 'Inbox')).toEqual({
      operationName: 'Inbox',
      operationType: 'query',
    });
    expect(operationLabels(name, document, 'Triage')).toEqual({
      operationName: 'Triage',
      operationType: 'mutation',
    });
    expect(operationLabels(name, document, 'Nope')).toEqual({
      operationName: 'anonymous',
      operationType: 'unknown',
    });
  });

  it('keep one entry for every name the document does not define (no growth per name a client invents)', () => {
    const name = operationNamer(100, null);
    const first = operationLabels(name, document, 'invented-0');
    for (let i = 1; i < 1000; i++) expect(operationLabels(name, document, `invented-${i}`)).toBe(first);
  });
});
