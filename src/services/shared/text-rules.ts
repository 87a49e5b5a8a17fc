import { z } from 'zod';

/** A trimmed single line of at most `max` characters: no line breaks, tabs or other control characters. */
export const singleLine = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, 'must be a single line without control characters');
