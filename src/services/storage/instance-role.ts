import { CredentialProvider } from 'minio/dist/esm/CredentialProvider.mjs';
import { Credentials } from 'minio/dist/esm/Credentials.mjs';

const DEFAULT_ENDPOINT = 'http://169.254.169.254';
const TIMEOUT_MS = 2_000;
// Renewed this long before they expire (EC2 rotates them well ahead).
const REFRESH_MS = 5 * 60_000;

/**
 * The EC2 instance role's temporary credentials for the minio client, from IMDSv2: a session token,
 * then the role's name and its keys. minio's own IamAwsProvider (8.0.7) reads `AccessKeyID`, which
 * EC2 does not send (`AccessKeyId`), so it cannot sign on EC2.
 */
export class InstanceRoleCredentials extends CredentialProvider {
  private cached: { credentials: Credentials; renewAt: number } | null = null;
  private readonly endpoint: string;

  constructor(endpoint = DEFAULT_ENDPOINT) {
    super({ accessKey: '', secretKey: '' });
    this.endpoint = endpoint;
  }

  override async getCredentials(): Promise<Credentials> {
    if (this.cached && Date.now() < this.cached.renewAt) return this.cached.credentials;
    const call = async (path: string, init: RequestInit) => {
      const res = await fetch(new URL(path, this.endpoint), {
        ...init,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`instance metadata ${path}: HTTP ${res.status}`);
      return res.text();
    };
    const token = await call('/latest/api/token', {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' },
    });
    const headers = { 'x-aws-ec2-metadata-token': token };
    const base = '/latest/meta-data/iam/security-credentials/';
    const [role] = (await call(base, { headers })).split('\n');
    if (!role) throw new Error('no IAM role attached to this instance');
    const body = JSON.parse(await call(`${base}${encodeURIComponent(role)}`, { headers })) as {
      Code?: string;
      AccessKeyId?: string;
      SecretAccessKey?: string;
      Token?: string;
      Expiration?: string;
    };
    if (body.Code !== 'Success' || !body.AccessKeyId || !body.SecretAccessKey)
      throw new Error(`instance role ${role}: ${body.Code ?? 'no credentials'}`);
    const credentials = new Credentials({
      accessKey: body.AccessKeyId,
      secretKey: body.SecretAccessKey,
      sessionToken: body.Token,
    });
    const expires = body.Expiration ? Date.parse(body.Expiration) : Date.now() + REFRESH_MS * 2;
    this.cached = { credentials, renewAt: expires - REFRESH_MS };
    return credentials;
  }
}
