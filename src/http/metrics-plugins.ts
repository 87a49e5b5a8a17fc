import {
  type DocumentNode,
  GraphQLError,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, Histogram } from 'prom-client';
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

interface OperationLabels {
  operationName: string;
  operationType: string;
}

// Yoga's parser cache hands out one DocumentNode per query text: its labels are worked out once per
// operation it defines. A requested name the document does not define shares one entry, so a client
// sending the same query under endless names grows nothing. The namer's answer for a name never changes
// once given, so it is kept too.
interface DocumentLabels {
  defined: Set<string>;
  byName: Map<string, OperationLabels>;
}
const labelCache = new WeakMap<DocumentNode, DocumentLabels>();
const UNPARSED = (name: Namer): OperationLabels => ({
  operationName: name(undefined),
  operationType: 'unknown',
});

/** Bounded labels; a name the document does not define (the plugin's `Anonymous` default) counts as anonymous. */
export function operationLabels(name: Namer, document: DocumentNode | undefined, requested?: string | null) {
  if (!document) return UNPARSED(name);
  let cached = labelCache.get(document);
  if (!cached) {
    const defined = new Set<string>();
    for (const d of document.definitions)
      if (d.kind === Kind.OPERATION_DEFINITION && d.name) defined.add(d.name.value);
    cached = { defined, byName: new Map() };
    labelCache.set(document, cached);
  }
  const key = requested && cached.defined.has(requested) ? requested : '';
  let labels = cached.byName.get(key);
  if (!labels) {
    const op = operationOf(document, key || undefined);
    labels = { operationName: name(op?.name?.value), operationType: op?.operation ?? 'unknown' };
    cached.byName.set(key, labels);
  }
  return labels;
}

const LABELS = ['operationName', 'operationType'] as const;

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

const seconds = (since: number) => (performance.now() - since) / 1000;

/**
 * Per-operation requests, errors and phase durations, HTTP and WebSocket alike: the series of
 * @graphql-yoga/plugin-prometheus as it was configured here (names, labels, buckets), from one plugin
 * that works out an operation's labels once per request. The library's hooks took about a tenth of the
 * CPU of a `{ __typename }` request (each metric rebuilt its label input through several layers, and
 * every response copied the whole context). Phases are timed with performance.now(); the context phase
 * is really timed (the library observed 0 there).
 */
export function metricsPlugins(metrics: Metrics, name: Namer): Plugin[] {
  const registers = [metrics.registry];
  const histogram = (metric: string, help: string, buckets?: number[]) =>
    new Histogram({ name: metric, help, labelNames: LABELS, registers, ...(buckets ? { buckets } : {}) });
  const phase = (metric: string, help: string) => histogram(metric, help, PHASE_BUCKETS);
  const requests = new Counter({
    name: 'graphql_envelop_request',
    help: 'GraphQL operations',
    labelNames: LABELS,
    registers,
  });
  const duration = histogram('graphql_envelop_request_duration', 'Whole operation time (s)');
  const parse = phase('graphql_envelop_phase_parse', 'Parse time (s)');
  const validate = phase('graphql_envelop_phase_validate', 'Validation time (s)');
  const contextPhase = phase('graphql_envelop_phase_context', 'Context building time (s)');
  const execute = phase('graphql_envelop_phase_execute', 'Execution time (s)');
  const subscribe = phase('graphql_envelop_phase_subscribe', 'Subscription setup time (s)');
  const errorResults = new Counter({
    name: 'graphql_envelop_error_result',
    help: 'Operations that ended with errors, by phase',
    labelNames: [...LABELS, 'phase'],
    registers,
  });
  const http = new Histogram({
    name: 'graphql_yoga_http_duration',
    help: 'HTTP request time for GraphQL (s)',
    labelNames: [...LABELS, 'method', 'statusCode'],
    buckets: COUNT_ONLY,
    registers,
  });

  // The operation's labels by GraphQL context, from a successful parse on (later phases are counted only then).
  const operations = new WeakMap<object, OperationLabels>();
  // HTTP requests: when they came in, and the labels of the operation they carried.
  const started = new WeakMap<Request, number>();
  const httpLabels = new WeakMap<Request, OperationLabels>();

  const errorsOf = (labels: OperationLabels, result: { errors?: readonly unknown[] }) => {
    if (result.errors?.length) errorResults.inc({ ...labels, phase: 'execute' }, result.errors.length);
  };
  /** Execution and subscription: errors per result, the phase, the request and its duration at the end. */
  const operation = (labels: OperationLabels, phaseHistogram: typeof execute) => {
    const since = performance.now();
    const end = () => {
      const t = seconds(since);
      phaseHistogram.observe(labels, t);
      requests.inc(labels);
      duration.observe(labels, t);
    };
    return ({ result }: { result: unknown }) => {
      if (isAsyncIterable(result))
        return {
          onNext: ({ result }: { result: { errors?: readonly unknown[] } }) => errorsOf(labels, result),
          onEnd: end,
        };
      errorsOf(labels, result as { errors?: readonly unknown[] });
      end();
      return undefined;
    };
  };

  return [
    {
      onPluginInit({ registerContextErrorHandler }) {
        registerContextErrorHandler(({ context }) => {
          errorResults.inc({ ...(operations.get(context) ?? UNPARSED(name)), phase: 'context' });
        });
      },
      onRequest({ request }) {
        started.set(request, performance.now());
      },
      onParse({ context }) {
        const since = performance.now();
        return ({ result, context: after }) => {
          const t = seconds(since);
          const ctx = after as { params?: { operationName?: string | null }; request?: Request };
          if (result == null || result instanceof Error) {
            const labels = UNPARSED(name);
            parse.observe(labels, t);
            errorResults.inc({ ...labels, phase: 'parse' });
            return;
          }
          const document = result as DocumentNode;
          // The name the request gives, else the first definition's (as the library did).
          const first = document.definitions[0] as OperationDefinitionNode | undefined;
          const labels = operationLabels(
            name,
            document,
            ctx.params?.operationName || first?.name?.value || 'Anonymous',
          );
          operations.set(after, labels);
          parse.observe(labels, t);
          if ((context as { request?: Request }).request && ctx.request) {
            const op = getOperationAST(document, ctx.params?.operationName);
            httpLabels.set(ctx.request, operationLabels(name, document, op?.name?.value));
          }
        };
      },
      onValidate({ context }) {
        const labels = operations.get(context);
        if (!labels) return;
        const since = performance.now();
        return ({ valid }) => {
          validate.observe(labels, seconds(since));
          if (!valid) errorResults.inc({ ...labels, phase: 'validate' });
        };
      },
      onContextBuilding({ context }) {
        const labels = operations.get(context);
        if (!labels) return;
        const since = performance.now();
        return () => contextPhase.observe(labels, seconds(since));
      },
      onExecute({ args }) {
        const labels = operations.get(args.contextValue as object);
        return labels ? { onExecuteDone: operation(labels, execute) } : undefined;
      },
      onSubscribe({ args }) {
        const labels = operations.get(args.contextValue as object);
        if (!labels) return;
        return {
          onSubscribeResult: operation(labels, subscribe),
          // As the library counted it: no phase of its own.
          onSubscribeError: () => errorResults.inc({ ...labels, phase: 'unknown' }),
        };
      },
      onResponse({ request, response }) {
        const since = started.get(request);
        const labels = httpLabels.get(request);
        if (since === undefined || !labels) return;
        http.observe(
          { ...labels, method: methodLabel(request.method), statusCode: response.status },
          seconds(since),
        );
      },
    },
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
