import { processDocument, type StepDeps, type StepOutcome } from './extract.step.ts';

/**
 * OCR step (after extract, on its own queue): reload by id, skip when final, then read the document
 * again in the OCR pool, its pages without a text layer recognised. With OCR turned off since the job
 * was queued, the plain extraction runs instead and `needsOcr` stays true.
 */
export function ocrStep(deps: StepDeps, documentId: string): Promise<StepOutcome> {
  return processDocument(deps, documentId, deps.ocr?.pool ?? deps.pool);
}
