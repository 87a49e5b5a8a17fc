import { exportContact } from '../resolvers/export.ts';
import { builder } from './builder.ts';

builder.mutationField('exportContact', (t) =>
  t.string({
    authScopes: { admin: true },
    description:
      'A signed link that expires (DOWNLOAD_URL_TTL_SECONDS) to a zip of all Dossier keeps about the contact: contact.json and the original files',
    args: { id: t.arg.id({ required: true }) },
    resolve: exportContact,
  }),
);
