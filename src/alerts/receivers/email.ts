/**
 * Email over SMTP with nodemailer. STARTTLS is required by default (the
 * connection is refused, not sent in clear, when the server cannot upgrade)
 * and certificates are verified; `caFile` trusts a private CA. One
 * connection per message: alerts are rare, and a pooled connection that a
 * server dropped would cost a failed attempt.
 *
 * Errors are rebuilt from nodemailer's code and the server's reply, so the
 * AUTH exchange (which carries the password) never reaches a message.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../../log.js';
import { titleOf, type Notification } from '../alert.js';
import type { EmailReceiverConfig } from '../config.js';
import { DeliveryError, type Receiver } from '../receiver.js';
import { deliveryId, iso } from './webhook.js';

type Transport = ReturnType<typeof nodemailer.createTransport>;

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
}

export function emailMessage(n: Notification, subjectPrefix: string): EmailMessage {
  const a = n.alert;
  const resolved = n.status === 'resolved';
  const lines = [
    a.summary,
    ...(resolved && a.resolution ? ['', `Resolved: ${a.resolution}`] : []),
    '',
    `Cluster:    ${a.cluster}`,
    `Subject:    ${a.subject}`,
    `Severity:   ${resolved ? `resolved (was ${n.peakSeverity})` : a.severity}`,
    `Kind:       ${a.kind}`,
    `First seen: ${iso(a.firstSeen)}`,
    resolved && a.resolvedAt !== undefined ? `Resolved:   ${iso(a.resolvedAt)}` : `Last seen:  ${iso(a.lastSeen)}`,
    `Key:        ${a.key}`,
    '',
    'Details:',
    JSON.stringify(a.details, null, 2),
    '',
    '-- ',
    'Sent by Vigil. Alert kinds, severities and filters: docs/alerts.md.',
  ];
  return { subject: `${subjectPrefix ? `${subjectPrefix} ` : ''}${titleOf(n)}`.replace(/[\r\n]+/g, ' '), text: `${lines.join('\n')}\n` };
}

export class EmailReceiver implements Receiver {
  readonly type = 'email';
  readonly name: string;
  private readonly transport: Transport;

  constructor(
    private readonly c: EmailReceiverConfig,
    baseDir: string,
    logger: Logger,
  ) {
    this.name = c.name;
    if (c.insecure) logger.warn({ receiver: c.name }, `alert receiver ${c.name}: TLS certificate verification is OFF (insecure: true)`);
    if (c.security === 'none') logger.warn({ receiver: c.name }, `alert receiver ${c.name}: mail goes unencrypted (security: none)`);
    const ca = c.caFile ? readFileSync(resolve(baseDir, c.caFile), 'utf8') : undefined;
    this.transport = nodemailer.createTransport({
      host: c.host,
      port: c.port ?? (c.security === 'tls' ? 465 : c.security === 'starttls' ? 587 : 25),
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      ...(c.username ? { auth: { user: c.username, pass: c.password ?? '' } } : {}),
      tls: { rejectUnauthorized: !c.insecure, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}), ...(c.servername ? { servername: c.servername } : {}) },
      // nodemailer's own limits run on real time; the outbox's timeout (on Vigil's clock) is the one that counts.
      connectionTimeout: c.timeout,
      greetingTimeout: c.timeout,
      socketTimeout: c.timeout,
      logger: false,
      debug: false,
    });
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    const m = emailMessage(n, this.c.subjectPrefix);
    const sent = this.transport.sendMail({ from: this.c.from, to: this.c.to, subject: m.subject, text: m.text, headers: { 'X-Vigil-Delivery': deliveryId(n), 'X-Vigil-Alert-Key': n.alert.key } });
    const aborted = new Promise<never>((_resolve, reject) => {
      const onAbort = (): void => reject(signal.reason instanceof DeliveryError ? signal.reason : new DeliveryError('aborted', { retryable: true }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    // An abandoned send settles later on nodemailer's own timeouts; its outcome no longer matters.
    sent.catch(() => undefined);
    try {
      await Promise.race([sent, aborted]);
    } catch (e) {
      throw e instanceof DeliveryError ? e : smtpError(e);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** 4xx replies and lost connections may pass on a retry; 5xx replies, failed logins and refused certificates will not. */
export function smtpError(e: unknown): DeliveryError {
  const err = e as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown; command?: unknown };
  // Only a bare verb such as `STARTTLS` or `AUTH PLAIN`: never a command line that could carry credentials.
  const command = typeof err.command === 'string' && /^[A-Z]+( [A-Z0-9-]+)?$/.test(err.command) ? ` (to ${err.command})` : '';
  const code = typeof err.code === 'string' ? err.code : undefined;
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const reply = typeof err.response === 'string' ? err.response.replace(/\s+/g, ' ').trim().slice(0, 200) : undefined;
  const message = typeof err.message === 'string' ? err.message : String(e);
  const certificate = /certificate|self.signed|CERT_|unable to verify/i.test(message);
  let text: string;
  if (code === 'EAUTH') text = `the SMTP server refused the login${reply ? `: ${reply}` : ''}`;
  else if (responseCode !== undefined) text = `the SMTP server answered ${reply ?? responseCode}${command}`;
  else text = `${code ? `${code}: ` : ''}${message.replace(/\s+/g, ' ').slice(0, 200)}`;
  const retryable = !certificate && code !== 'EAUTH' && code !== 'ETLS' && code !== 'EENVELOPE' && code !== 'EMESSAGE' && (responseCode === undefined ? true : responseCode >= 400 && responseCode < 500);
  return new DeliveryError(text, { retryable });
}
