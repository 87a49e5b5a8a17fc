import { z } from 'zod';

/** The inbox's search filter: one trigram at least, so the index always applies (ContactRepository.inbox). */
export const searchSchema = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(200, 'must be at most 200 characters');
