import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ImdsPeer {
  url: string;
  /** `METHOD path` of every request, oldest first. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A stand-in for the EC2 instance metadata service, IMDSv2 only, answering as EC2 does
 * (AWS documentation, "Retrieve security credentials from instance metadata"): a session token from
 * `PUT /latest/api/token`, then the role name and its temporary credentials with that token.
 */
export async function startImdsPeer(
  role: string,
  keys: { accessKey: string; secretKey: string },
): Promise<ImdsPeer> {
  const token = `imds-token-${Date.now()}`;
  const requests: string[] = [];
  const base = '/latest/meta-data/iam/security-credentials/';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').replace(/\/{2,}/g, '/');
    requests.push(`${req.method} ${path}`);
    req.resume();
    if (req.method === 'PUT' && path === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return res.writeHead(400).end();
      return res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    }
    // IMDSv2: no session token, no answer.
    if (req.headers['x-aws-ec2-metadata-token'] !== token) return res.writeHead(401).end();
    if (req.method === 'GET' && path === base) return res.writeHead(200).end(role);
    if (req.method === 'GET' && path === `${base}${role}`) {
      return res.writeHead(200, { 'content-type': 'text/plain' }).end(
        JSON.stringify({
          Code: 'Success',
          LastUpdated: new Date().toISOString(),
          Type: 'AWS-HMAC',
          AccessKeyId: keys.accessKey,
          SecretAccessKey: keys.secretKey,
          Token: 'instance-session-token',
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise((ok) => server.close(() => ok())),
  };
}
