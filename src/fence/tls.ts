/**
 * How a fence agent trusts a BMC's certificate. Verified against the
 * system's CAs by default; `caFile` adds the BMC's CA (the host name is
 * still checked); `fingerprint` pins the BMC's own certificate by its
 * SHA-256 digest instead of a chain; `insecure` accepts anything and says so.
 *
 * A pinned connection is handed to the HTTP client only after its
 * certificate matched, so no request (and no credential) is written to a
 * server that failed the pin.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes } from '../errors.js';
import { fenceError } from './errors.js';

export interface TlsOptions {
  /** PEM file with the CA(s) to trust, resolved against `baseDir`. */
  readonly caFile?: string;
  /** SHA-256 fingerprint of the BMC's certificate, hex with or without colons. */
  readonly fingerprint?: string;
  readonly insecure?: boolean;
}

const FINGERPRINT = /^(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$|^[0-9a-fA-F]{64}$/;

export function isFingerprint(text: string): boolean {
  return FINGERPRINT.test(text.trim());
}

/** `ab12…` or `AB:12:…` to Node's `fingerprint256` form, `AB:12:…`. */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/** Certificate errors Node reports by code: the BMC answered, but could not be trusted. */
export function isTlsTrustError(code: string | undefined): boolean {
  if (!code) return false;
  return (
    code.startsWith('ERR_TLS_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT' ||
    code === 'VIGIL_FINGERPRINT_MISMATCH'
  );
}

class FingerprintMismatch extends Error {
  readonly code = 'VIGIL_FINGERPRINT_MISMATCH';
}

/** An https.Agent that checks the peer certificate's SHA-256 fingerprint before the socket is used. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly pin: string,
    private readonly handshakeTimeoutMs: number,
  ) {
    // Chain checks are replaced by the pin; no session resumption, so every connection presents its certificate.
    super({ rejectUnauthorized: false, maxCachedSessions: 0 });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection(options) as TLSSocket;
    const done = (err: Error | null): void => {
      socket.setTimeout(0);
      socket.removeListener('error', onError);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    const onError = (err: Error): void => done(err);
    socket.once('error', onError);
    socket.setTimeout(this.handshakeTimeoutMs, () => done(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      const seen = socket.getPeerCertificate().fingerprint256;
      if (seen && seen.toUpperCase() === this.pin) done(null);
      else done(new FingerprintMismatch(`certificate fingerprint ${seen || '(none)'} does not match the pinned fingerprint`));
    });
    return undefined;
  }
}

export interface TlsAgents {
  readonly https: https.Agent;
  /** How the peer is trusted, for messages. */
  readonly mode: 'system CAs' | 'caFile' | 'fingerprint' | 'insecure';
}

/** Builds the https.Agent for one agent entry; a caFile that cannot be read is a configuration error now, not at fence time. */
export function buildTlsAgent(options: TlsOptions, baseDir: string, handshakeTimeoutMs = 10_000): TlsAgents {
  const set = [options.caFile !== undefined, options.fingerprint !== undefined, options.insecure === true].filter(Boolean).length;
  if (set > 1) {
    throw fenceError(ErrorCodes.FENCE_FAILED, 'TLS options conflict: use one of caFile, fingerprint or insecure', { expected: true });
  }
  if (options.insecure) return { https: new https.Agent({ rejectUnauthorized: false }), mode: 'insecure' };
  if (options.fingerprint !== undefined) {
    if (!isFingerprint(options.fingerprint)) {
      throw fenceError(ErrorCodes.FENCE_FAILED, 'fingerprint must be a SHA-256 digest: 64 hex digits, with or without colons', { expected: true });
    }
    return { https: new PinnedAgent(normalizeFingerprint(options.fingerprint), handshakeTimeoutMs), mode: 'fingerprint' };
  }
  if (options.caFile !== undefined) {
    const path = isAbsolute(options.caFile) ? options.caFile : resolve(baseDir, options.caFile);
    let ca: Buffer;
    try {
      ca = readFileSync(path);
    } catch (e) {
      throw fenceError(ErrorCodes.FENCE_FAILED, `cannot read caFile ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { expected: true });
    }
    return { https: new https.Agent({ ca }), mode: 'caFile' };
  }
  return { https: new https.Agent(), mode: 'system CAs' };
}
