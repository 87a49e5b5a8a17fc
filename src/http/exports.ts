import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import contentDisposition from 'content-disposition';
import { UnavailableError } from '../errors.ts';
import type { Services } from '../services/index.ts';
import { privateFileHeaders, signedLink } from './signed-link.ts';
import { sendError } from './util.ts';

const ROUTE = /^\/exports\/([^/]{1,100})$/;

/**
 * `GET /exports/{contactId}?expires=…&signature=…`: the contact's export, a zip streamed from storage
 * as it is sent (its length known beforehand); 404 once the contact is erased.
 */
export function exportsHandler(services: Pick<Services, 'exports' | 'orm'>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const link = signedLink(req, res, { route: ROUTE, methods: ['GET'], verify: services.exports.verify });
    if (!link) return;
    let zip: Awaited<ReturnType<Services['exports']['open']>>;
    try {
      zip = await services.exports.open(services.orm.em.fork(), link.id);
    } catch (err) {
      if (err instanceof UnavailableError) return sendError(res, 503, 'SERVICE_UNAVAILABLE', err.message);
      throw err;
    }
    if (!zip) return sendError(res, 404, 'NOT_FOUND', 'Not found');
    privateFileHeaders(res, 'application/zip', contentDisposition(zip.filename));
    res.setHeader('content-length', zip.size);
    await pipeline(zip.stream, res);
  };
}
