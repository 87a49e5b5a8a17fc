import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../services/metrics/metrics.ts';

/** Keeps the operationName label bounded: anonymous, known names, or `other` past the cap. */
export function operationNamer(cap: number, known: string[] | null) {
  const seen = new Set<string>();
  const allowed = known ? new Set(known) : null;
  return (name: string | undefined | null): string => {
    if (!name) return 'anonymous';
    if (allowed) return allowed.has(name) ? name : 'other';
    if (seen.has(name)) return name;
    if (seen.size >= cap || name.length > 64) return 'other';
    seen.add(name);
    return name;
  };
}

type Labels = 'operationName' | 'operationType';

export function metricsPlugins(metrics: Metrics, name: (n?: string | null) => string): Plugin[] {
  const registry = metrics.registry;
  const labels = (p: FillLabelsFnParams) => ({
    operationName: name(p.operationName),
    operationType: p.operationType ?? 'unknown',
  });
  const histogram = (metric: string, help: string) =>
    createHistogram<never, Labels>({
      registry,
      histogram: { name: metric, help, labelNames: ['operationName', 'operationType'] },
      fillLabelsFn: labels,
    });
  return [
    usePrometheus({
      registry,
      endpoint: false,
      metrics: {
        graphql_envelop_request: createCounter<never, Labels>({
          registry,
          counter: {
            name: 'graphql_envelop_request',
            help: 'GraphQL operations',
            labelNames: ['operationName', 'operationType'],
          },
          fillLabelsFn: labels,
        }),
        graphql_envelop_request_duration: histogram(
          'graphql_envelop_request_duration',
          'Whole operation time (s)',
        ),
        graphql_envelop_phase_parse: histogram('graphql_envelop_phase_parse', 'Parse time (s)'),
        graphql_envelop_phase_validate: histogram('graphql_envelop_phase_validate', 'Validation time (s)'),
        graphql_envelop_phase_context: histogram(
          'graphql_envelop_phase_context',
          'Context building time (s)',
        ),
        graphql_envelop_phase_execute: histogram('graphql_envelop_phase_execute', 'Execution time (s)'),
        graphql_envelop_phase_subscribe: histogram(
          'graphql_envelop_phase_subscribe',
          'Subscription setup time (s)',
        ),
        graphql_envelop_error_result: createCounter<never, Labels | 'phase'>({
          registry,
          counter: {
            name: 'graphql_envelop_error_result',
            help: 'Operations that ended with errors, by phase',
            labelNames: ['operationName', 'operationType', 'phase'],
          },
          fillLabelsFn: (p) => ({ ...labels(p), phase: p.errorPhase ?? 'unknown' }),
        }),
        graphql_yoga_http_duration: createHistogram<never, Labels | 'method' | 'statusCode'>({
          registry,
          histogram: {
            name: 'graphql_yoga_http_duration',
            help: 'HTTP request time for GraphQL (s)',
            labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
          },
          fillLabelsFn: (p, ctx: { request?: Request; response?: Response }) => ({
            ...labels(p),
            method: ctx.request?.method ?? 'unknown',
            statusCode: ctx.response?.status ?? 0,
          }),
        }),
      },
    }),
  ];
}

/** Counts every error by extensions.code, and logs the unexpected ones with the request id. */
export function errorReporting(metrics: Metrics, name: (n?: string | null) => string, log: Logger): Plugin {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result }) => {
        if (!('errors' in result) || !result.errors) return;
        const ctx = args.contextValue as Partial<Context>;
        const op = args.document.definitions.find((d: { kind: string }) => d.kind === 'OperationDefinition');
        const operationType = op && 'operation' in op ? op.operation : 'unknown';
        for (const err of result.errors) {
          const code = String((err as GraphQLError).extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          metrics.graphqlErrors.inc({ operationName: name(args.operationName), operationType, code });
          const original = (err as GraphQLError).originalError;
          if (original && !(original instanceof GraphQLError)) {
            (ctx.log ?? log).error(
              { err: original, requestId: ctx.requestId, path: err.path },
              'unexpected error',
            );
          }
        }
      },
    }),
  };
}
