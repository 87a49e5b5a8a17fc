import { z } from 'zod';

import { singleLine } from '../shared/text-rules.ts';

/** Rules for each ContactInput field; the GraphQL input applies them one by one so issues name the field. */
export const contactFieldRules = {
  name: singleLine(100).min(1, 'is required'),
  email: z
    .string()
    .trim()
    .max(254, 'must be at most 254 characters')
    .pipe(z.email('must be a valid email address')),
  company: singleLine(100),
  service: singleLine(100),
  message: z.string().trim().min(1, 'is required').max(5000, 'must be at most 5000 characters'),
  source: singleLine(100).min(1, 'must not be empty'),
  fax: z.string().max(1000),
};

const r = contactFieldRules;
export const contactInputSchema = z.object({
  ...r,
  company: r.company.nullish(),
  service: r.service.nullish(),
  source: r.source.nullish(),
  fax: r.fax.nullish(),
});
export type ContactInput = z.output<typeof contactInputSchema>;

export const idempotencyKeySchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
