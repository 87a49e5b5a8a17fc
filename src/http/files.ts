import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import rangeParser from 'range-parser';
import { UnavailableError } from '../errors.ts';
import { dispositionOf } from '../services/documents/downloads.service.ts';
import type { Services } from '../services/index.ts';
import { NotFoundObjectError } from '../services/storage/storage.ts';
import { privateFileHeaders, signedLink } from './signed-link.ts';
import { sendError } from './util.ts';

const ROUTE = /^\/files\/([^/]{1,100})$/;

/**
 * `GET /files/{documentId}?disposition=…&expires=…&signature=…`: a document's bytes behind a signed,
 * expiring link (the disk store's downloads). 403 for a bad or expired link before anything is
 * looked up, 404 for a document or object that is gone; one byte range honoured (206), else all.
 */
export function filesHandler(services: Pick<Services, 'downloads' | 'documents' | 'store' | 'orm'>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const link = signedLink(req, res, {
      route: ROUTE,
      methods: ['GET', 'HEAD'],
      verify: services.downloads.verify,
    });
    if (!link) return;
    const { id } = link;
    const disposition = services.downloads.disposition(link.params);
    try {
      const doc = await services.documents.byId(services.orm.em.fork(), id);
      const info = doc ? await services.store.stat(doc.storageKey) : null;
      if (!doc || !info) return sendError(res, 404, 'NOT_FOUND', 'Not found');
      privateFileHeaders(res, doc.contentType, dispositionOf(doc, disposition));
      res.setHeader('accept-ranges', 'bytes');
      const ranges = req.headers.range ? rangeParser(info.size, req.headers.range, { combine: true }) : null;
      if (ranges === -1) {
        res.setHeader('content-range', `bytes */${info.size}`);
        return sendError(res, 416, 'RANGE_NOT_SATISFIABLE', 'Range not satisfiable');
      }
      // A malformed header or several ranges: the whole file, which RFC 9110 allows.
      const range =
        Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0]! : null;
      if (range) res.setHeader('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
      res.setHeader('content-length', range ? range.end - range.start + 1 : info.size);
      res.statusCode = range ? 206 : 200;
      if (req.method === 'HEAD') return void res.end();
      await pipeline(await services.store.get(doc.storageKey, range ?? undefined), res);
    } catch (err) {
      if (res.headersSent) throw err;
      if (err instanceof NotFoundObjectError) return sendError(res, 404, 'NOT_FOUND', 'Not found');
      if (err instanceof UnavailableError) return sendError(res, 503, 'SERVICE_UNAVAILABLE', err.message);
      throw err;
    }
  };
}
