import type { DenialReason, Viewer } from '../../context.ts';

/** No valid credential, and why. */
export const anonymous = (denial: DenialReason): Viewer => ({
  authenticated: false,
  actor: 'anonymous',
  kind: 'anonymous',
  id: 'anonymous',
  name: 'anonymous',
  scopes: [],
  expiresAt: null,
  denial,
});

/** ADMIN_TOKEN: every scope. */
export const ROOT: Viewer = {
  authenticated: true,
  actor: 'root',
  kind: 'root',
  id: 'root',
  name: 'root',
  scopes: ['READ', 'WRITE', 'ADMIN'],
  expiresAt: null,
};
