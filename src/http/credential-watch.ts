import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin, Repeater, type YogaInitialContext } from 'graphql-yoga';
import type { Context, Viewer } from '../context.ts';
import { AppError } from '../errors.ts';
import type { AuthService } from '../services/auth/auth.service.ts';

// setTimeout's ceiling; a credential valid for longer is rechecked when it fires.
const MAX_TIMER_MS = 2_147_483_647;

/** How often an API token is rechecked past the cache: a revoke is seen within this time. */
export const recheckMs = (cacheSeconds: number) => Math.max(1, cacheSeconds) * 1000;

/** Whether a credential can stop being valid while a subscription or socket it opened is live. */
const mayLapse = (viewer: Viewer) => viewer.expiresAt !== null || viewer.kind === 'api-token';

/**
 * Keeps a live credential honest: `end(reason)` is called once when it expires (a JWT's exp, a
 * token's expiresAt) or, for API tokens, when a recheck past the cache every `everyMs` finds it
 * refused (revoked). Answers the function that stops watching.
 */
export function watchCredential(
  viewer: Viewer,
  recheck: () => Promise<Viewer>,
  everyMs: number,
  end: (reason: string) => void,
): () => void {
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  const stop = () => {
    for (const t of timers) clearTimeout(t);
  };
  const lapse = (reason: string) => {
    if (ended) return;
    ended = true;
    stop();
    end(reason);
  };
  if (viewer.expiresAt) {
    const ms = Math.min(Math.max(0, viewer.expiresAt.getTime() - Date.now()), MAX_TIMER_MS);
    timers.push(setTimeout(() => lapse('Credential expired'), ms));
  }
  if (viewer.kind === 'api-token') {
    const interval = setInterval(() => {
      recheck()
        .then((v) => {
          if (!v.authenticated) lapse(`Credential ${v.denial ?? 'refused'}`);
        })
        // A database hiccup is not a revoke: the next round tries again.
        .catch(() => undefined);
    }, everyMs);
    timers.push(interval);
  }
  for (const t of timers) t.unref();
  return stop;
}

/**
 * `source` until the credential lapses: then one last result with an UNAUTHENTICATED error, and the
 * end (SSE: a `next` event with the error, then `complete`); the source is returned either way.
 */
function untilLapsed(
  source: AsyncIterable<ExecutionResult>,
  watch: (end: (reason: string) => void) => () => void,
): Repeater<ExecutionResult> {
  return new Repeater<ExecutionResult>(async (push, stop) => {
    const unwatch = watch((reason) => {
      void push({ errors: [new AppError('UNAUTHENTICATED', reason)] });
      stop();
    });
    const it = source[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<ExecutionResult>> | null = null;
    try {
      for (;;) {
        pending = it.next();
        const next = await Promise.race([pending, stop]);
        if (!next || next.done) break;
        await push(next.value);
      }
    } finally {
      unwatch();
      stop();
      // Outrun by the stop: what it settles with no longer has a reader.
      pending?.catch(() => undefined);
      await it.return?.();
    }
  });
}

/**
 * Subscriptions streamed over HTTP (SSE, multipart) end when the credential that opened them lapses,
 * as a WebSocket is closed with 4403 (which watches its socket itself, so `ws` is left alone).
 */
export function credentialWatch(
  auth: Pick<AuthService, 'viewer'>,
  cacheSeconds: number,
): Plugin<Context & YogaInitialContext> {
  const every = recheckMs(cacheSeconds);
  return {
    onSubscribe: ({ args }) => {
      const ctx = args.contextValue;
      if (ctx.transport === 'ws' || !ctx.viewer.authenticated || !mayLapse(ctx.viewer)) return;
      const authorization = ctx.request.headers.get('authorization');
      const recheck = () => auth.viewer(authorization, { fresh: true });
      return {
        onSubscribeResult: ({ result, setResult }) => {
          if (!isAsyncIterable(result)) return;
          setResult(untilLapsed(result, (end) => watchCredential(ctx.viewer, recheck, every, end)));
        },
      };
    },
  };
}
