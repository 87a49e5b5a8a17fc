import type { FileUpload } from 'graphql-upload-ts';
import type { IncomingFile } from '../services/documents/uploads.service.ts';

/**
 * The upload library's file as services see it: opened once the multipart parser reaches its bytes
 * (a body that ends first rejects), released (its temporary file removed) when it will not be stored.
 */
export function incomingFile(upload: Promise<FileUpload>): IncomingFile {
  return {
    async open() {
      const u = await upload;
      return { filename: u.filename, stream: () => u.createReadStream() };
    },
    release: () =>
      upload.then(
        (u) => u.capacitor?.release?.(),
        () => undefined,
      ),
  };
}
