/**
 * How the provider trusts vCenter's certificate: the system's CAs by default,
 * a CA file (`caFile`), a pinned certificate thumbprint (`thumbprint`, SHA-1
 * or SHA-256, as vSphere shows them), or nothing at all (`insecure: true`,
 * only on request, with a warning). A pinned thumbprint is checked before a
 * single byte of the request (and so the password) is sent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, type AgentOptions } from 'node:https';
import { connect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface TrustOptions {
  readonly caFile?: string;
  readonly thumbprint?: string;
  readonly insecure?: boolean;
}

/** Upper-case hex pairs joined by colons, as vCenter and govc print them. */
export function normalizeThumbprint(t: string): string {
  const hex = t.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/../g)?.join(':') ?? '';
}

export function thumbprintOf(der: Buffer, algorithm: 'sha1' | 'sha256'): string {
  return normalizeThumbprint(createHash(algorithm).update(der).digest('hex'));
}

class PinnedAgent extends Agent {
  constructor(
    options: AgentOptions,
    private readonly pin: string,
  ) {
    super(options);
  }

  // Node's Agent accepts a connection handed over through the callback; the socket is handed over only once its certificate matched.
  override createConnection(options: ConnectionOptions, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const socket: TLSSocket = connect({ ...options, rejectUnauthorized: false });
    const fail = (err: Error) => {
      socket.destroy();
      callback?.(err, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.removeListener('error', fail);
      const cert = socket.getPeerCertificate();
      const raw = cert?.raw;
      const algorithm = this.pin.length === 59 ? 'sha1' : 'sha256';
      const seen = raw ? thumbprintOf(raw, algorithm) : '';
      if (seen !== this.pin) {
        const err = Object.assign(new Error(`the server's certificate thumbprint ${seen || '(none)'} does not match the pinned thumbprint`), { code: 'ERR_TLS_THUMBPRINT' });
        socket.destroy();
        callback?.(err, socket);
        return;
      }
      callback?.(null, socket);
    });
    return undefined as unknown as Duplex;
  }
}

/** The https agent for these trust options; `warn` is called when verification is off. */
export function httpsAgentFor(trust: TrustOptions, baseDir: (p: string) => string, warn: (msg: string) => void): Agent {
  const base: AgentOptions = { keepAlive: true, maxSockets: 8 };
  if (trust.insecure) {
    warn('TLS verification of vCenter is OFF (insecure: true): anyone between Vigil and vCenter can read the password and every answer');
    return new Agent({ ...base, rejectUnauthorized: false });
  }
  if (trust.thumbprint) {
    const pin = normalizeThumbprint(trust.thumbprint);
    return new PinnedAgent(base, pin);
  }
  if (trust.caFile) {
    return new Agent({ ...base, ca: readFileSync(baseDir(trust.caFile)) });
  }
  return new Agent(base);
}
