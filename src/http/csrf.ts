import type { IncomingMessage } from 'node:http';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../errors.ts';

/** Headers a cross-site page cannot add without a CORS preflight; one of them unlocks a "simple" request. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

export const CSRF_MESSAGE = `Requests that are not JSON (forms, text/plain, multipart, GET) must carry a non-empty ${CSRF_HEADERS.join(' or ')} header`;

export const hasCsrfHeader = (req: IncomingMessage) => CSRF_HEADERS.some((h) => Boolean(req.headers[h]));

/** Yoga's CSRF prevention, answering FORBIDDEN like every other refusal. */
export function csrfPrevention(): Plugin {
  const plugin = useCSRFPrevention({ requestHeaders: CSRF_HEADERS });
  return {
    onRequestParse(payload) {
      try {
        return plugin.onRequestParse?.(payload);
      } catch {
        throw new AppError('FORBIDDEN', CSRF_MESSAGE);
      }
    },
  };
}
