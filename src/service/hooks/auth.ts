/**
 * Who may post hooks. Two schemes, either one enough:
 *
 *   Authorization: Bearer <token>
 *
 *   X-Vigil-Timestamp: <unix seconds>                      (recommended)
 *   X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * For senders that cannot set a header (VEBA's Knative broker delivers to a
 * bare URI), `allowQueryToken` also accepts the token as `?token=<token>`.
 *
 * Without X-Vigil-Timestamp the signature is HMAC-SHA256(secret, raw body),
 * as interfaces.md first described it; `requireTimestamp` refuses that form.
 * A timestamp further than the replay window from now is refused, and so is
 * a signature already accepted within the window (an exact replay). Every
 * comparison of a secret value is constant-time (crypto.timingSafeEqual
 * over equal-length digests), and every configured secret is tried, so the
 * time taken says nothing about which one, or how much of it, matched.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ExpiringSet } from './expiring-set.js';
import { DEFAULT_REPLAY_WINDOW_MS, type HookAuthSettings } from './types.js';

export type AuthResult = { readonly ok: true; readonly method: 'token' | 'hmac' | 'none' } | { readonly ok: false; readonly reason: string };

export const SIGNATURE_HEADER = 'x-vigil-signature';
export const TIMESTAMP_HEADER = 'x-vigil-timestamp';

const MAX_SIGNATURES = 4;
const MAX_TOKEN_CHARS = 4096;

export class HookAuthenticator {
  private settings: HookAuthSettings = {};
  private tokenDigests: Buffer[] = [];
  private secrets: Buffer[] = [];
  private windowMs: number;
  private seen: ExpiringSet;

  constructor(
    settings: HookAuthSettings,
    private readonly now: () => number,
    private readonly maxRemembered: number,
  ) {
    this.windowMs = settings.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    // A timestamped signature stays valid from (ts - window) to (ts + window): remember it that long.
    this.seen = new ExpiringSet(2 * this.windowMs, maxRemembered);
    this.replace(settings);
  }

  /**
   * New credentials (SIGHUP after a rotation). Signatures already accepted
   * stay remembered, so a reload opens no window for replaying them.
   */
  replace(settings: HookAuthSettings): void {
    const windowMs = settings.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.settings = settings;
    this.tokenDigests = (settings.tokens ?? []).filter((t) => t.length > 0).map((t) => sha256(Buffer.from(t, 'utf8')));
    this.secrets = (settings.hmacSecrets ?? []).filter((s) => s.length > 0).map((s) => Buffer.from(s, 'utf8'));
    // A longer window needs a longer memory; a shorter one keeps the longer memory (refusing more, never less).
    if (windowMs > this.windowMs) this.seen = this.seen.widened(2 * windowMs, this.maxRemembered);
    this.windowMs = windowMs;
  }

  /** Some credential is configured, or unauthenticated hooks were asked for. */
  get configured(): boolean {
    return this.tokenDigests.length > 0 || this.secrets.length > 0 || this.settings.allowUnauthenticated === true;
  }

  check(headers: IncomingHttpHeaders, rawBody: Buffer, queryToken?: string): AuthResult {
    const authorization = first(headers.authorization);
    const signature = first(headers[SIGNATURE_HEADER]);
    if (queryToken !== undefined && this.settings.allowQueryToken) {
      if (this.tokenMatches(queryToken)) return { ok: true, method: 'token' };
      if (authorization === undefined && signature === undefined) return { ok: false, reason: 'invalid credentials' };
    }
    if (authorization === undefined && signature === undefined) {
      if (this.tokenDigests.length === 0 && this.secrets.length === 0 && this.settings.allowUnauthenticated) return { ok: true, method: 'none' };
      return { ok: false, reason: this.configured ? 'missing credentials' : 'webhook credentials are not configured on this Vigil' };
    }
    if (authorization !== undefined && this.checkToken(authorization)) return { ok: true, method: 'token' };
    if (signature !== undefined) return this.checkSignature(signature, first(headers[TIMESTAMP_HEADER]), rawBody);
    return { ok: false, reason: 'invalid credentials' };
  }

  private checkToken(header: string): boolean {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!m || this.tokenDigests.length === 0) return false;
    return this.tokenMatches(m[1] as string);
  }

  private tokenMatches(presented: string): boolean {
    if (presented.length === 0 || presented.length > MAX_TOKEN_CHARS || this.tokenDigests.length === 0) return false;
    const candidate = sha256(Buffer.from(presented, 'utf8'));
    let ok = false;
    for (const t of this.tokenDigests) ok = crypto.timingSafeEqual(candidate, t) || ok;
    return ok;
  }

  private checkSignature(header: string, timestamp: string | undefined, body: Buffer): AuthResult {
    if (this.secrets.length === 0) return { ok: false, reason: 'invalid credentials' };
    const presented = parseSignatures(header);
    if (!presented) return { ok: false, reason: 'malformed X-Vigil-Signature (expected sha256=<64 hex digits>)' };
    let prefix = '';
    if (timestamp !== undefined) {
      if (!/^\d{1,12}$/.test(timestamp.trim())) return { ok: false, reason: 'malformed X-Vigil-Timestamp (expected unix seconds)' };
      const ts = Number(timestamp.trim());
      if (Math.abs(this.now() - ts * 1000) > this.windowMs) return { ok: false, reason: 'X-Vigil-Timestamp outside the replay window' };
      prefix = `${timestamp.trim()}.`;
    } else if (this.settings.requireTimestamp) {
      return { ok: false, reason: 'X-Vigil-Timestamp required' };
    }
    let matched: Buffer | undefined;
    for (const secret of this.secrets) {
      const mac = crypto.createHmac('sha256', secret).update(prefix).update(body).digest();
      for (const sig of presented) if (crypto.timingSafeEqual(mac, sig)) matched = sig;
    }
    if (!matched) return { ok: false, reason: 'invalid signature' };
    if (this.seen.seenOrAdd(`${prefix}${matched.toString('hex')}`, this.now())) return { ok: false, reason: 'replayed request' };
    return { ok: true, method: 'hmac' };
  }
}

/** `sha256=<hex>`, possibly several separated by commas (a sender signing with an old and a new secret). */
function parseSignatures(header: string): Buffer[] | undefined {
  const parts = header.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || parts.length > MAX_SIGNATURES) return undefined;
  const out: Buffer[] = [];
  for (const p of parts) {
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(p);
    if (!m) return undefined;
    out.push(Buffer.from(m[1] as string, 'hex'));
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function sha256(b: Buffer): Buffer {
  return crypto.createHash('sha256').update(b).digest();
}

/** How a sender signs a body; exported for tests, the benchmark and anyone writing a sender in TypeScript. */
export function signBody(secret: string, body: string | Buffer, timestampSeconds?: number): Record<string, string> {
  const prefix = timestampSeconds === undefined ? '' : `${timestampSeconds}.`;
  const hex = crypto.createHmac('sha256', secret).update(prefix).update(body).digest('hex');
  return { 'x-vigil-signature': `sha256=${hex}`, ...(timestampSeconds === undefined ? {} : { 'x-vigil-timestamp': String(timestampSeconds) }) };
}
