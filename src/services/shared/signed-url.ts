import { createHmac, timingSafeEqual } from 'node:crypto';

export type UrlVerdict = 'valid' | 'expired' | 'invalid';

export interface UrlSigner {
  /** `path?params&expires=…&signature=…`, valid for `ttlSeconds`; absolute when a base URL is configured. */
  sign(path: string, params: Record<string, string>, ttlSeconds: number): string;
  /** Checks the signature over the path and every parameter, then the expiry. */
  verify(path: string, params: URLSearchParams): UrlVerdict;
}

const byKey = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * Expiring links (downloads, exports): HMAC-SHA256 with `secret` over the path and all query
 * parameters, `expires` (Unix seconds) included, so none can be changed, added or dropped.
 */
export function createUrlSigner(
  secret: string,
  opts: { baseUrl?: string | null; now?: () => number } = {},
): UrlSigner {
  const now = opts.now ?? Date.now;
  const base = (opts.baseUrl ?? '').replace(/\/+$/, '');
  const mac = (path: string, params: URLSearchParams) =>
    createHmac('sha256', secret)
      .update(
        [
          path,
          ...[...params]
            .filter(([k]) => k !== 'signature')
            .sort(byKey)
            .map(([k, v]) => `${k}=${v}`),
        ].join('\n'),
      )
      .digest('base64url');
  return {
    sign(path, params, ttlSeconds) {
      const query = new URLSearchParams(params);
      query.set('expires', String(Math.floor(now() / 1000) + ttlSeconds));
      query.set('signature', mac(path, query));
      return `${base}${path}?${query}`;
    },
    verify(path, params) {
      const given = Buffer.from(params.get('signature') ?? '');
      const expected = Buffer.from(mac(path, params));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      const expires = Number(params.get('expires'));
      return Number.isSafeInteger(expires) && expires * 1000 > now() ? 'valid' : 'expired';
    },
  };
}
