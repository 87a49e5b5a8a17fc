export type ExtractableType =
  | 'application/pdf'
  | 'text/plain'
  | 'text/markdown'
  | 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

export interface ExtractedText {
  text: string;
  /** Pages for PDFs; null where the format has no pages. */
  pageCount: number | null;
}

export interface Insights {
  wordCount: number;
  pageCount: number | null;
  /** ISO 639-1, or null when undetermined. */
  language: string | null;
  /** Up to 10, most significant first, stop words removed. */
  keywords: string[];
  /** A PDF with pages but no text layer. */
  needsOcr: boolean;
}

/** Thrown when a document cannot be extracted; the message is safe to show to staff. */
export class ExtractionError extends Error {
  readonly reason: 'malformed' | 'timeout' | 'memory' | 'unsupported';
  constructor(reason: ExtractionError['reason'], message: string) {
    super(message);
    this.reason = reason;
  }
}
