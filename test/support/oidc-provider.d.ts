// oidc-provider ships no types; only what test/support/oidc-peer.ts uses.
declare module 'oidc-provider' {
  import type { Server } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number): Server;
    use(
      middleware: (ctx: { path: string; method: string }, next: () => Promise<void>) => Promise<void>,
    ): void;
  }
}
