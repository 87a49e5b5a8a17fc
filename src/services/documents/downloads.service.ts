import type { EntityManager } from '@mikro-orm/postgresql';
import contentDisposition from 'content-disposition';
import type { Actor } from '../../context.ts';
import type { Document } from '../../entities/index.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { UrlSigner, UrlVerdict } from '../shared/signed-url.ts';
import type { ObjectStore } from '../storage/storage.ts';

export type Disposition = 'inline' | 'attachment';

/** `Content-Disposition` for a document: RFC 6266 `filename*` (UTF-8), and a plain ASCII `filename` beside it. */
export const dispositionOf = (doc: Pick<Document, 'filename'>, disposition: Disposition) =>
  contentDisposition(doc.filename, {
    type: disposition,
    fallback:
      doc.filename
        .normalize('NFKD')
        .replace(/[^\x20-\x7e]/g, '')
        .trim() || 'download',
  });

export const filePath = (documentId: string) => `/files/${documentId}`;

/**
 * Links to a document's bytes that expire: a presigned GET where the store offers one (S3), else
 * the signed `/files/{id}` route this server answers.
 */
export function createDownloadService(deps: {
  store: ObjectStore;
  signer: UrlSigner;
  audit: AuditService;
  ttlSeconds: number;
}) {
  const { store, signer, audit, ttlSeconds } = deps;
  return {
    ttlSeconds,
    /** A link for `by`, who is recorded in the audit log as having been given it. */
    async url(em: EntityManager, by: Actor, doc: Document, inline: boolean): Promise<string> {
      const disposition: Disposition = inline ? 'inline' : 'attachment';
      const url = store.presignGet
        ? await store.presignGet(doc.storageKey, ttlSeconds, {
            contentType: doc.contentType,
            contentDisposition: dispositionOf(doc, disposition),
          })
        : signer.sign(filePath(doc.id), { disposition }, ttlSeconds);
      await audit.record(em, {
        ...by,
        action: 'document.download',
        subjectType: 'Document',
        subjectId: doc.id,
        details: { disposition, ttlSeconds },
      });
      return url;
    },
    /** Checks a `/files/{id}` request's query; `disposition` is part of what was signed. */
    verify: (documentId: string, params: URLSearchParams): UrlVerdict =>
      signer.verify(filePath(documentId), params),
    /** The disposition a verified `/files/{id}` link was signed with. */
    disposition: (params: URLSearchParams): Disposition =>
      params.get('disposition') === 'inline' ? 'inline' : 'attachment',
  };
}
