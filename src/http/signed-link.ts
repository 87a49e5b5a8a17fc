import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UrlVerdict } from '../services/shared/signed-url.ts';
import { sendError } from './util.ts';

/**
 * The id of a `/<route>/{id}?…&expires=…&signature=…` request whose link is good. Otherwise the answer
 * is sent and null returned: 404 for another path, 405 for another method, 403 for a bad or expired
 * link (before anything is looked up, and with no bytes of the resource).
 */
export function signedLink(
  req: IncomingMessage,
  res: ServerResponse,
  opts: {
    route: RegExp;
    methods: readonly string[];
    verify: (id: string, params: URLSearchParams) => UrlVerdict;
  },
): { id: string; params: URLSearchParams } | null {
  const url = new URL(req.url ?? '/', 'http://link');
  const id = opts.route.exec(url.pathname)?.[1];
  if (!id) {
    sendError(res, 404, 'NOT_FOUND', 'Not found');
    return null;
  }
  if (!opts.methods.includes(req.method ?? '')) {
    res.setHeader('allow', opts.methods.join(', '));
    sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
    return null;
  }
  const verdict = opts.verify(id, url.searchParams);
  if (verdict !== 'valid') {
    sendError(res, 403, 'FORBIDDEN', verdict === 'expired' ? 'This link has expired' : 'Bad signature');
    return null;
  }
  return { id, params: url.searchParams };
}

/** Headers of a private file answered through a signed link: never sniffed, run or cached. */
export function privateFileHeaders(res: ServerResponse, contentType: string, disposition: string) {
  res.setHeader('content-type', contentType);
  res.setHeader('content-disposition', disposition);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('content-security-policy', 'sandbox');
  res.setHeader('cache-control', 'private, no-store');
}
