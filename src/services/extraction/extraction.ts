export type ExtractableType =
  | 'application/pdf'
  | 'text/plain'
  | 'text/markdown'
  | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
  | ImageType;

/** Images are read by OCR only. */
export type ImageType = 'image/png' | 'image/jpeg' | 'image/tiff';
export const isImageType = (type: string): type is ImageType =>
  type === 'image/png' || type === 'image/jpeg' || type === 'image/tiff';

export interface ExtractedText {
  text: string;
  /** Pages for PDFs; null where the format has no pages. */
  pageCount: number | null;
  /** Pages (1-based) without a text layer, for OCR: a PDF's scanned pages, an image's one page. */
  scannedPages?: number[];
}

/** Thrown when a document cannot be extracted; the message is safe to show to staff. */
export class ExtractionError extends Error {
  readonly reason: 'malformed' | 'timeout' | 'memory' | 'unsupported' | 'page_limit';
  constructor(reason: ExtractionError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}

/** An error's message, cut to a length fit for a document's error field. */
export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/** True for a JavaScript allocation that failed: the process's memory limit, reached by a file. */
export function isAllocationFailure(error: unknown): boolean {
  return (
    error instanceof RangeError &&
    /allocation failed|Invalid (typed )?array length|Invalid string length/i.test(error.message)
  );
}
