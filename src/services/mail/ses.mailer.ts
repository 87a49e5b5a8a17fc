import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { NETWORK_ERROR_CODES } from '../shared/connection-errors.ts';
import { MailError, type Mailer } from './mailer.ts';
import { buildMime } from './mime.ts';

export interface SesMailerOptions {
  region: string;
  /** Override for the SES endpoint (a local emulator); the AWS default when absent. */
  endpoint?: string;
  /** Per-request time limit; 10 s by default. */
  requestTimeoutMs?: number;
}

// SES (query protocol) reports throttling and quota errors as HTTP 400 with these codes.
const throttlingNames = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: { code?: string };
}

/**
 * Maps an SDK or transport error to a MailError: throttling, 5xx, timeouts and network failures are
 * retryable; other 4xx answers (MessageRejected, unverified domain, sending paused) are permanent.
 * An error that never got an HTTP answer is treated as transient.
 */
export function classifySesError(error: unknown): MailError {
  if (error instanceof MailError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const code = e.code ?? e.cause?.code;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  const retryable =
    throttlingNames.has(name) ||
    status === 429 ||
    e.$retryable !== undefined ||
    (status !== undefined && status >= 500) ||
    e.$fault === 'server' ||
    name === 'TimeoutError' ||
    (code !== undefined && NETWORK_ERROR_CODES.has(code)) ||
    !(e.$fault === 'client' || (status !== undefined && status >= 400));
  return new MailError(`SES send failed: ${detail}`, retryable, error);
}

/**
 * A Mailer over Amazon SES SendRawEmail. Credentials come from the default AWS chain. One attempt
 * per call: the job queue owns retries and backoff. `messageId` is the id SES assigned.
 */
export function createSesMailer(opts: SesMailerOptions): Mailer {
  const client = new SESClient({
    region: opts.region,
    endpoint: opts.endpoint,
    maxAttempts: 1,
    // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
    },
  });
  return {
    kind: 'ses',
    async send(mail) {
      const { raw } = await buildMime(mail);
      try {
        const out = await client.send(
          new SendRawEmailCommand({ RawMessage: { Data: raw }, Destinations: mail.to }),
        );
        if (!out.MessageId) throw new MailError('SES answered without a MessageId', true);
        return { messageId: out.MessageId };
      } catch (error) {
        throw classifySesError(error);
      }
    },
    // SES keeps no copy this process could reach.
    forget: async () => 0,
  };
}
