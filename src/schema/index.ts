import { builder } from './builder.ts';
import './contact.ts';
import './contact-triage.ts';
import './document.ts';
import './document-files.ts';
import './inbox.ts';
import './live.ts';
import './search.ts';
import './viewer.ts';
import './api-token.ts';
import './audit.ts';
import './erasure.ts';
import './export.ts';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: false });
