// s3rver ships no types; only what test/support/s3-peer.ts uses.
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    httpServer: Server;
    store: {
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
      deleteObject(bucket: string, key: string): Promise<void>;
    };
  }
}
