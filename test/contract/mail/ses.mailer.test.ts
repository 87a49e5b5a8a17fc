import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket } from 'node:net';
import {
  AccountSendingPausedException,
  ConfigurationSetSendingPausedException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESServiceException,
} from '@aws-sdk/client-ses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderContactNotification } from '../../../src/services/mail/contact-notification.ts';
import { MailError } from '../../../src/services/mail/mailer.ts';
import { classifySesError, createSesMailer } from '../../../src/services/mail/ses.mailer.ts';
import { notificationInput } from '../../support/mail-fixtures.ts';
import { type SesPeer, startSesPeer } from '../../support/ses-peer.ts';

const credentialVars = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const savedEnv = Object.fromEntries(credentialVars.map((k) => [k, process.env[k]]));

beforeAll(() => {
  // The default credential chain reads these first; the emulator accepts any signed request.
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
});
afterAll(() => {
  for (const k of credentialVars) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

async function failure(promise: Promise<unknown>): Promise<MailError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailError);
  return error as MailError;
}

describe('SES mailer against aws-ses-v2-local', () => {
  let peer: SesPeer;
  beforeAll(async () => {
    peer = await startSesPeer();
  });
  afterAll(async () => {
    await peer.stop();
  });
  beforeEach(async () => {
    await peer.clear();
  });

  it('delivers subject, Reply-To, recipients, text and html', async () => {
    const mailer = createSesMailer({ region: 'eu-west-1', endpoint: peer.endpoint });
    expect(mailer.kind).toBe('ses');
    const mail = renderContactNotification(notificationInput({ name: 'Zoë <script>', company: 'A & B' }));
    const sent = await mailer.send(mail);

    const emails = await peer.emails();
    expect(emails).toHaveLength(1);
    const [email] = emails;
    expect(email!.messageId).toBe(sent.messageId);
    expect(email!.from).toBe('"Dossier" <noreply@dossier.test>');
    expect(email!.destination).toEqual({ to: ['owner@dossier.test'], cc: [], bcc: [] });
    expect(email!.replyTo).toEqual(['ada@example.com']);
    expect(email!.subject).toBe('New contact: Zoë <script> (A & B)');
    expect(email!.body.text).toBe(mail.text);
    expect(email!.body.html).toBe(mail.html);
    expect(email!.body.html).toContain('<td>Zoë &lt;script&gt;</td>');
    expect(email!.body.text).toContain('- report.pdf (application/pdf, 12 kB): 1,234 words, 3 pages');
  });

  it('carries injection attempts as text, never as headers', async () => {
    const mailer = createSesMailer({ region: 'eu-west-1', endpoint: peer.endpoint });
    await mailer.send(
      renderContactNotification(
        notificationInput({ name: 'x\r\nBcc: evil@x.test', email: 'a@b.test\r\nBcc: evil@x.test' }),
      ),
    );
    const [email] = await peer.emails();
    expect(email!.subject).toBe('New contact: x Bcc: evil@x.test (Analytical Engines)');
    expect(email!.destination).toEqual({ to: ['owner@dossier.test'], cc: [], bcc: [] });
    expect(email!.replyTo).toEqual([]);
  });

  it('reports a 4xx answer from the service as permanent', async () => {
    // The emulator answers 400 to a message without a From address.
    const mailer = createSesMailer({ region: 'eu-west-1', endpoint: peer.endpoint });
    const error = await failure(mailer.send({ ...renderContactNotification(notificationInput()), from: '' }));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HTTP 400');
    expect(await peer.emails()).toEqual([]);
  });

  it('reports an unreachable service as retryable', async () => {
    const gone = await startSesPeer();
    await gone.stop();
    const mailer = createSesMailer({ region: 'eu-west-1', endpoint: gone.endpoint });
    const error = await failure(mailer.send(renderContactNotification(notificationInput())));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('SES mailer with a service that does not answer in time', () => {
  let server: ReturnType<typeof createTcpServer>;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up after the request timeout with a retryable error', async () => {
    const { port } = server.address() as AddressInfo;
    const mailer = createSesMailer({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      requestTimeoutMs: 300,
    });
    const started = performance.now();
    const error = await failure(mailer.send(renderContactNotification(notificationInput())));
    const elapsed = performance.now() - started;
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
  });
});

// The emulator cannot throttle or fail: this server answers with SES's documented query-protocol
// error bodies so the real SDK deserialises them as it would from AWS.
describe('SES mailer with error answers the emulator cannot produce', () => {
  let server: Server;
  let next = { status: 500, code: 'InternalFailure' };
  let endpoint: string;
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(next.status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>` +
            `<Code>${next.code}</Code><Message>${next.code} from the test server</Message></Error>` +
            '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    [400, 'Throttling', true],
    [429, 'TooManyRequestsException', true],
    [500, 'InternalFailure', true],
    [503, 'ServiceUnavailable', true],
    [400, 'MessageRejected', false],
    [400, 'MailFromDomainNotVerifiedException', false],
    [400, 'AccountSendingPausedException', false],
    [403, 'AccessDenied', false],
  ])('HTTP %i %s -> retryable %s', async (status, code, retryable) => {
    next = { status, code };
    const mailer = createSesMailer({ region: 'eu-west-1', endpoint });
    const error = await failure(mailer.send(renderContactNotification(notificationInput())));
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(code);
    expect((error.cause as Error).name).toBe(code);
  });
});

describe('classifySesError', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  it('treats SES client exceptions as permanent', () => {
    for (const error of [
      new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }),
      new MailFromDomainNotVerifiedException({ message: 'not verified', ...meta(400) }),
      new AccountSendingPausedException({ message: 'paused', ...meta(400) }),
      new ConfigurationSetSendingPausedException({
        message: 'paused',
        ConfigurationSetName: 'x',
        ...meta(400),
      }),
    ]) {
      const mailError = classifySesError(error);
      expect(mailError.retryable).toBe(false);
      expect(mailError.cause).toBe(error);
    }
  });

  it('treats throttling, 5xx and network failures as retryable', () => {
    const throttling = new SESServiceException({
      name: 'Throttling',
      $fault: 'client',
      message: 'Maximum sending rate exceeded.',
      ...meta(400),
    });
    const server = new SESServiceException({ name: 'InternalFailure', $fault: 'server', ...meta(500) });
    const tooMany = new SESServiceException({ name: 'SomethingElse', $fault: 'client', ...meta(429) });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    for (const error of [throttling, server, tooMany, refused, timeout]) {
      expect(classifySesError(error).retryable).toBe(true);
    }
  });

  it('passes a MailError through unchanged', () => {
    const original = new MailError('x', false);
    expect(classifySesError(original)).toBe(original);
  });
});
