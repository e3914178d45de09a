/**
 * What can go wrong talking to Proxmox VE, as typed errors that name the
 * endpoint, and their translation into Vigil's coded errors. Nothing here
 * carries a secret: messages are built from the method, the path and what
 * the server said, never from headers or bodies we sent.
 */
import { ErrorCodes, VigilError, type ErrorCode } from '../../src/errors.js';

/** The server answered with a non-200 status. PVE puts its message in the reason phrase. */
export class PveHttpError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly status: number,
    readonly reason: string,
    readonly fieldErrors?: Record<string, string>,
  ) {
    super(`${method} ${endpoint}: HTTP ${status} ${reason}${fieldErrors ? ` (${Object.entries(fieldErrors).map(([k, v]) => `${k}: ${v}`).join('; ')})` : ''}`);
    this.name = 'PveHttpError';
  }
}

/** The answer is not what the API promises (HTML error page, truncated JSON, missing fields). */
export class PveMalformedError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    detail: string,
  ) {
    super(`${method} ${endpoint}: malformed answer: ${detail}`);
    this.name = 'PveMalformedError';
  }
}

/**
 * No answer. `sent` says whether the request may have reached the server:
 * false only when the connection was refused or never opened, so a POST is
 * known not to have run.
 */
export class PveNetworkError extends Error {
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly sent: boolean,
    readonly timedOut: boolean,
    detail: string,
  ) {
    super(`${method} ${endpoint}: ${timedOut ? 'no answer in time' : 'no answer'}: ${detail}`);
    this.name = 'PveNetworkError';
  }
}

/** Login or token refused. */
export class PveAuthError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    reason: string,
  ) {
    super(`authentication refused by ${endpoint}: HTTP ${status} ${reason}; check tokenId/tokenSecret (or username/password) and the token's privileges`);
    this.name = 'PveAuthError';
  }
}

/** The API's certificate is not trusted under the configured TLS settings. */
export class PveTlsError extends Error {
  constructor(
    readonly endpoint: string,
    readonly code: string,
    detail: string,
  ) {
    super(`TLS: the certificate of ${endpoint} is not trusted (${code}: ${detail}); give caFile or fingerprint (or insecure: true, not advised)`);
    this.name = 'PveTlsError';
  }
}

/** A lock named in a PVE error such as "VM 101 is locked (migrate)". */
export function lockIn(message: string): string | undefined {
  return /is locked \(([a-z-]+)\)/.exec(message)?.[1];
}

/**
 * Translates anything thrown by the transport or the mapping into a
 * VigilError. `what` says what Vigil was doing ("migrate web-01").
 */
export function toVigilError(e: unknown, what: string): VigilError {
  if (e instanceof VigilError) return e;
  const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  const opts = (code: ErrorCode, o: { retryable?: boolean; expected?: boolean; details?: Record<string, unknown> }) => new VigilError(code, message, { ...o, cause: e });
  if (e instanceof PveTlsError) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { reason: 'tls', tlsCode: e.code } });
  if (e instanceof PveAuthError) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { reason: 'auth', status: e.status } });
  if (e instanceof PveNetworkError) return opts(ErrorCodes.PROVIDER_UNAVAILABLE, { retryable: true, details: { reason: e.timedOut ? 'timeout' : 'network', endpoint: e.endpoint } });
  if (e instanceof PveMalformedError) return opts(ErrorCodes.PROVIDER_UNAVAILABLE, { retryable: true, details: { reason: 'malformed', endpoint: e.endpoint } });
  if (e instanceof PveHttpError) {
    const details = { status: e.status, endpoint: e.endpoint };
    const lock = lockIn(e.reason);
    // 595/596 are pveproxy's own codes for "could not reach the node that owns this".
    if (e.status === 595 || e.status === 596) return opts(ErrorCodes.PROVIDER_UNAVAILABLE, { retryable: true, details: { ...details, reason: 'node-unreachable' } });
    if (e.status === 502 || e.status === 503 || e.status === 504) return opts(ErrorCodes.PROVIDER_UNAVAILABLE, { retryable: true, details: { ...details, reason: 'gateway' } });
    if (lock) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: true, details: { ...details, reason: 'locked', lock } });
    if (e.status === 401) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { ...details, reason: 'auth' } });
    if (e.status === 403) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { ...details, reason: 'permission' } });
    if (/does not exist|no such (vm|node)|not found/i.test(e.reason) || e.status === 404) {
      return opts(/node/i.test(e.reason) && !/VM|CT|config/i.test(e.reason) ? ErrorCodes.UNKNOWN_HOST : ErrorCodes.UNKNOWN_VM, { expected: true, details });
    }
    if (e.status === 400) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { ...details, reason: 'bad-request' } });
    if (e.status === 501) return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { ...details, reason: 'not-implemented' } });
    // Other 5xx: PVE reports refusals ("target node is not online", "can't migrate running VM without --online") as 500 too.
    if (e.status >= 500 && /timeout|timed out|got no worker|temporarily|connection/i.test(e.reason)) return opts(ErrorCodes.PROVIDER_UNAVAILABLE, { retryable: true, details });
    return opts(ErrorCodes.PROVIDER_REFUSED, { expected: true, retryable: false, details: { ...details, reason: 'refused' } });
  }
  return opts(ErrorCodes.INTERNAL, {});
}

export function refused(message: string, reason: string, retryable = false, details: Record<string, unknown> = {}): VigilError {
  return new VigilError(ErrorCodes.PROVIDER_REFUSED, message, { expected: true, retryable, details: { reason, ...details } });
}
