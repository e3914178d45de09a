/**
 * Email against a real SMTP server (smtp-server, from the nodemailer
 * project) on an ephemeral loopback port, speaking STARTTLS with a
 * self-signed certificate.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsConfigSchema, type ReceiverConfig } from '../../src/alerts/config.js';
import { DeliveryError } from '../../src/alerts/receiver.js';
import { buildReceiver } from '../../src/alerts/receivers/build.js';
import { startAlerts } from '../../src/alerts/start.js';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { captureLogs, firing, resolved, selfSigned, T0, waitFor, type TestCert } from './helpers.js';

interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
  readonly secure: boolean;
  readonly user: string | undefined;
}

const USER = 'vigil';
const PASSWORD = 'smtp-Pa55word!';

async function smtpPeer(cert: TestCert, options: { starttls?: boolean } = {}): Promise<{ port: number; mails: Mail[]; logins: string[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    key: cert.key,
    cert: cert.cert,
    name: 'localhost',
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: options.starttls === false ? ['STARTTLS'] : [],
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, session, cb) {
      logins.push(`${auth.username}:${session.secure ? 'tls' : 'plain'}`);
      if (auth.username === USER && auth.password === PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function emailReceiver(port: number, over: Record<string, unknown> = {}, logger = captureLogs().logger) {
  const config = alertsConfigSchema.parse({ receivers: [{ name: 'oncall-mail', type: 'email', host: '127.0.0.1', port, from: 'vigil@example.test', to: ['oncall@example.test', 'infra@example.test'], username: USER, password: PASSWORD, timeout: '5s', ...over }] });
  return buildReceiver(config.receivers[0] as ReceiverConfig, new FakeClock(T0), logger, process.cwd());
}

/** The decoded text part of a simple nodemailer message. */
function bodyOf(raw: string): string {
  const [, body = ''] = raw.split(/\r?\n\r?\n/, 2).length === 2 ? [raw.slice(0, raw.search(/\r?\n\r?\n/)), raw.slice(raw.search(/\r?\n\r?\n/)).trimStart()] : ['', ''];
  return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

describe('email over SMTP', () => {
  let cert: TestCert;
  let peer: Awaited<ReturnType<typeof smtpPeer>>;
  let plainPeer: Awaited<ReturnType<typeof smtpPeer>>;
  beforeAll(async () => {
    cert = selfSigned('smtp');
    peer = await smtpPeer(cert);
    plainPeer = await smtpPeer(cert, { starttls: false });
  });
  afterAll(async () => {
    await peer.close();
    await plainPeer.close();
  });

  it('sends over STARTTLS to a server whose certificate is trusted through caFile, logged in', async () => {
    const r = emailReceiver(peer.port, { caFile: cert.certFile });
    await r.send(firing(), new AbortController().signal);
    await r.send(resolved(), new AbortController().signal);
    await r.close();
    expect(peer.mails).toHaveLength(2);
    const [mail, done] = peer.mails;
    expect(mail?.secure).toBe(true);
    expect(mail?.user).toBe(USER);
    expect(mail?.from).toBe('vigil@example.test');
    expect(mail?.to).toEqual(['oncall@example.test', 'infra@example.test']);
    expect(mail?.raw).toMatch(/^Subject: \[Vigil\] \[CRITICAL\] Host esx-03 in cluster lab failed/m);
    expect(mail?.raw).toMatch(/^X-Vigil-Alert-Key: host-failed\/lab\/esx-03/m);
    const text = bodyOf(mail?.raw ?? '');
    expect(text).toContain('Cluster:    lab');
    expect(text).toContain('Severity:   critical');
    expect(text).toContain('Key:        host-failed/lab/esx-03');
    expect(done?.raw).toMatch(/^Subject: \[Vigil\] \[RESOLVED\] /m);
    expect(bodyOf(done?.raw ?? '')).toContain('Resolved: esx-03 responds again');
    expect(peer.logins.every((l) => l.endsWith(':tls'))).toBe(true);
  });

  it('refuses a self-signed certificate it was not told to trust, and sends nothing', async () => {
    const before = peer.mails.length;
    const r = emailReceiver(peer.port);
    const e = await r.send(firing(), new AbortController().signal).catch((x: unknown) => x);
    await r.close();
    expect(e).toBeInstanceOf(DeliveryError);
    expect((e as DeliveryError).message).toMatch(/certificate/i);
    expect((e as DeliveryError).retryable).toBe(false);
    expect(peer.mails).toHaveLength(before);
  });

  it('refuses to go on in clear when the server offers no STARTTLS (no login, no mail)', async () => {
    const r = emailReceiver(plainPeer.port, { caFile: cert.certFile });
    const e = await r.send(firing(), new AbortController().signal).catch((x: unknown) => x);
    await r.close();
    expect(e).toBeInstanceOf(DeliveryError);
    expect((e as DeliveryError).message).toMatch(/STARTTLS/);
    expect((e as DeliveryError).retryable).toBe(false);
    expect(plainPeer.logins).toEqual([]);
    expect(plainPeer.mails).toEqual([]);
  });

  it('a refused login is not retried, and neither the password nor its base64 appears in the error or the logs', async () => {
    const logs = captureLogs();
    const clock = new FakeClock(T0);
    const decisions = new DecisionLog();
    const alerts = startAlerts({
      decisions,
      status: () => ({ generatedAt: '', source: 'service', clusters: [] }),
      clock,
      logger: logs.logger,
      config: alertsConfigSchema.parse({
        receivers: [{ name: 'mail', type: 'email', host: '127.0.0.1', port: peer.port, from: 'vigil@example.test', to: ['oncall@example.test'], username: USER, password: 'wrong-Secret-42', caFile: cert.certFile, timeout: '5s' }],
      }),
    });
    decisions.record({ at: T0, cluster: 'lab', kind: 'frozen', subject: 'lab', message: 'half the hosts vanished at once' });
    await waitFor(() => alerts.stats()[0]?.failed === 1, 'the refused login');
    expect(alerts.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
    expect(alerts.stats()[0]?.lastError).toMatch(/refused the login/);
    await alerts.stop();
    const text = logs.text();
    expect(text).toContain('UNDELIVERED');
    expect(text).toContain('Automation is frozen on cluster lab');
    for (const secret of ['wrong-Secret-42', Buffer.from('wrong-Secret-42').toString('base64'), Buffer.from(`\u0000${USER}\u0000wrong-Secret-42`).toString('base64')]) expect(text).not.toContain(secret);
    expect(alerts.stats()[0]?.lastError).not.toContain('wrong-Secret-42');
  });
});
