import {
  createCounter,
  createHistogram,
  type FillLabelsFnParams,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../services/metrics/metrics.ts';

type Namer = (name: string | undefined | null) => string;

/** Keeps the operationName label bounded: anonymous, known names, or `other` past the cap. */
export function operationNamer(cap: number, known: string[] | null): Namer {
  const seen = new Set<string>();
  const allowed = known ? new Set(known) : null;
  return (name) => {
    if (!name) return 'anonymous';
    if (allowed) return allowed.has(name) ? name : 'other';
    if (seen.has(name)) return name;
    if (seen.size >= cap || name.length > 64) return 'other';
    seen.add(name);
    return name;
  };
}

/** The operation a request runs: the one it names, else the document's only one. */
function operationOf(document: DocumentNode | undefined, requested: string | null | undefined) {
  const ops = (document?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return ops.find((o) => requested && o.name?.value === requested) ?? (ops.length === 1 ? ops[0] : undefined);
}

// Yoga's parser cache hands out one DocumentNode per query text: its operation is looked up once.
const operations = new WeakMap<DocumentNode, Map<string, OperationDefinitionNode | undefined>>();

/** Bounded labels; a name the document does not define (the plugin's `Anonymous` default) counts as anonymous. */
function operationLabels(name: Namer, document: DocumentNode | undefined, requested?: string | null) {
  let op: OperationDefinitionNode | undefined;
  if (document) {
    let byRequest = operations.get(document);
    if (!byRequest) {
      byRequest = new Map();
      operations.set(document, byRequest);
    }
    const key = requested ?? '';
    if (byRequest.has(key)) op = byRequest.get(key);
    else {
      op = operationOf(document, requested);
      byRequest.set(key, op);
    }
  }
  return { operationName: name(op?.name?.value), operationType: op?.operation ?? 'unknown' };
}

type Labels = 'operationName' | 'operationType';

/**
 * Series are paid per operation name, on every scrape. The whole-operation histogram keeps prom-client's
 * buckets (the latency alerts' thresholds sit on them); a phase only needs to show which one dominates,
 * and the HTTP histogram is read only as a count by status.
 */
const PHASE_BUCKETS = [0.001, 0.01, 0.1, 1];
const COUNT_ONLY: number[] = [];

// Label values below come from the server's own vocabulary; these keep them so whatever a client sends.
const METHODS = new Set(['GET', 'POST', 'OPTIONS']);
const methodLabel = (method: string | undefined) => (method && METHODS.has(method) ? method : 'other');
const codeLabel = (code: unknown) =>
  typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'OTHER';

/** Per-operation requests, errors and phase durations (prom-client via the Yoga plugin), HTTP and WebSocket alike. */
export function metricsPlugins(metrics: Metrics, name: Namer): Plugin[] {
  const registry = metrics.registry;
  const labels = (p: FillLabelsFnParams) => operationLabels(name, p.document, p.operationName);
  const histogram = (metric: string, help: string, buckets?: number[]) =>
    createHistogram<never, Labels>({
      registry,
      histogram: {
        name: metric,
        help,
        labelNames: ['operationName', 'operationType'],
        ...(buckets ? { buckets } : {}),
      },
      fillLabelsFn: labels,
    });
  const phase = (metric: string, help: string) => histogram(metric, help, PHASE_BUCKETS);
  return [
    usePrometheus({
      registry,
      endpoint: false,
      metrics: {
        // Off: the summary duplicates the duration histogram and the two others carry unbounded names.
        graphql_envelop_request_time_summary: false,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
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
        graphql_envelop_phase_parse: phase('graphql_envelop_phase_parse', 'Parse time (s)'),
        graphql_envelop_phase_validate: phase('graphql_envelop_phase_validate', 'Validation time (s)'),
        graphql_envelop_phase_context: phase('graphql_envelop_phase_context', 'Context building time (s)'),
        graphql_envelop_phase_execute: phase('graphql_envelop_phase_execute', 'Execution time (s)'),
        graphql_envelop_phase_subscribe: phase(
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
            buckets: COUNT_ONLY,
          },
          fillLabelsFn: (p, ctx: { request?: Request; response?: Response }) => ({
            ...labels(p),
            method: methodLabel(ctx.request?.method),
            statusCode: ctx.response?.status ?? 0,
          }),
        }),
      },
    }),
  ];
}

/**
 * Counts every error by extensions.code (parse and validation failures too), and logs the unexpected
 * ones with the request id.
 */
export function errorReporting(metrics: Metrics, name: Namer, log: Logger): Plugin {
  const report = (
    ctx: Partial<Context> & { params?: { operationName?: string | null } },
    labels: { operationName: string; operationType: string },
    errors: readonly Error[],
    fallbackCode: string,
  ) => {
    for (const err of errors) {
      const e = err as Partial<GraphQLError>;
      metrics.graphqlErrors.inc({ ...labels, code: codeLabel(e.extensions?.code ?? fallbackCode) });
      const original = e.originalError;
      if (original && !(original instanceof GraphQLError)) {
        (ctx.log ?? log).error({ err: original, requestId: ctx.requestId, path: e.path }, 'unexpected error');
      }
    }
  };
  type Ctx = Parameters<typeof report>[0];
  const onResult =
    (args: { document: DocumentNode; operationName?: string | null; contextValue: unknown }) =>
    ({ result }: { result: unknown }) => {
      if (isAsyncIterable(result) || !(result as { errors?: unknown }).errors) return;
      const labels = operationLabels(name, args.document, args.operationName);
      report(
        args.contextValue as Ctx,
        labels,
        (result as { errors: GraphQLError[] }).errors,
        'INTERNAL_SERVER_ERROR',
      );
    };
  return {
    onParse:
      ({ context }) =>
      ({ result }) => {
        if (!(result instanceof Error)) return;
        report(context as Ctx, operationLabels(name, undefined), [result], 'GRAPHQL_PARSE_FAILED');
      },
    onValidate:
      ({ context, params }) =>
      ({ valid, result }) => {
        if (valid) return;
        const ctx = context as Ctx;
        const labels = operationLabels(name, params.documentAST, ctx.params?.operationName);
        report(ctx, labels, result, 'GRAPHQL_VALIDATION_FAILED');
      },
    onExecute: ({ args }) => ({ onExecuteDone: onResult(args) }),
    onSubscribe: ({ args }) => ({ onSubscribeResult: onResult(args) }),
  };
}
