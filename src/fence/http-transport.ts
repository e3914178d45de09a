/**
 * The default HttpTransport: real sockets through axios, for BMCs.
 *
 * Promises: TLS verified by default (see tls.ts); each request ends within
 * its `timeoutMs`, whatever the peer does; a peer that cannot be reached
 * (refused, reset, DNS, timeout, untrusted certificate) is a
 * VIGIL_E_FENCE_UNREACHABLE error; any HTTP answer, whatever its status, is
 * returned to the caller, who knows what it means. No proxy from the
 * environment, no redirects followed (a redirect must not carry credentials
 * elsewhere), and nothing here logs a header or a body.
 */
import axios, { type AxiosError, type AxiosResponse } from 'axios';
import http from 'node:http';
import { ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { fenceError } from './errors.js';
import { buildTlsAgent, isTlsTrustError, type TlsOptions } from './tls.js';
import type { HttpRequest, HttpResponse, HttpTransport } from './types.js';

export interface HttpTransportOptions {
  readonly tls?: TlsOptions;
  /** Directory `tls.caFile` is relative to. */
  readonly baseDir?: string;
  readonly logger?: Logger;
  /** Largest answer accepted, in bytes. */
  readonly maxBodyBytes?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const tls = buildTlsAgent(options.tls ?? {}, options.baseDir ?? process.cwd());
  if (tls.mode === 'insecure') {
    // Once per transport, i.e. once per configured agent: enough to be seen, not a line per request.
    options.logger?.warn({ tls: 'insecure' }, 'fencing: TLS certificate verification is OFF for this BMC agent (insecure: true); anyone on the path can impersonate the BMC');
  }
  const httpAgent = new http.Agent();
  const client = axios.create({
    httpAgent,
    httpsAgent: tls.https,
    proxy: false,
    maxRedirects: 0,
    maxContentLength: options.maxBodyBytes ?? 4 * 1024 * 1024,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    decompress: true,
  });

  return async (req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> => {
    const where = `${req.method} ${safeUrl(req.url)}`;
    if (signal?.aborted) throw abortReason(signal);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), Math.max(1, req.timeoutMs));
    const onAbort = (): void => deadline.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
      let data: string | undefined;
      if (req.body !== undefined) {
        data = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
        if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
      }
      let res: AxiosResponse<string>;
      try {
        res = await client.request<string>({ method: req.method, url: req.url, headers, data, signal: deadline.signal });
      } catch (e) {
        if (signal?.aborted) throw abortReason(signal);
        if (deadline.signal.aborted) {
          throw fenceError(ErrorCodes.FENCE_UNREACHABLE, `${where}: no answer within ${req.timeoutMs}ms`, { details: { url: safeUrl(req.url), cause: 'timeout' } });
        }
        throw translate(e as AxiosError, where, tls.mode, req.url);
      }
      return { status: res.status, headers: flatHeaders(res.headers), body: parseBody(res.data) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  };
}

/** JSON when it parses, the text otherwise, undefined when empty: the caller decides whether the shape is right. */
function parseBody(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function flatHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.map((x) => String(x)).join(', ');
  }
  return out;
}

/** Builds a new error from the code and message only: an AxiosError holds the request's headers, credentials included. */
function translate(e: AxiosError, where: string, tlsMode: string, url: string): Error {
  const causeCode = (e.cause as { code?: string } | undefined)?.code;
  const code = causeCode ?? e.code;
  const reason = (e.cause)?.message ?? e.message;
  if (isTlsTrustError(code)) {
    const hint =
      tlsMode === 'fingerprint'
        ? 'the certificate does not match the configured fingerprint'
        : tlsMode === 'caFile'
          ? 'the certificate is not signed by the configured caFile, or does not name this host'
          : 'the certificate is not trusted: set caFile to the BMC\'s CA, or pin it with fingerprint';
    return fenceError(ErrorCodes.FENCE_UNREACHABLE, `${where}: TLS verification failed (${reason}): ${hint}`, {
      expected: true,
      retryable: false,
      details: { url: safeUrl(url), cause: 'tls', tlsCode: code ?? 'unknown' },
    });
  }
  if (code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' || e.code === 'ERR_BAD_RESPONSE') {
    return fenceError(ErrorCodes.FENCE_FAILED, `${where}: the answer is too large or unreadable (${reason})`, { details: { url: safeUrl(url) } });
  }
  const network = code !== undefined && NETWORK_CODES.has(code);
  return fenceError(ErrorCodes.FENCE_UNREACHABLE, `${where}: ${network ? `cannot reach the BMC (${code})` : `request failed (${code ?? reason})`}`, {
    details: { url: safeUrl(url), cause: code ?? 'unknown' },
  });
}

/** The URL without any user:password part. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'aborted');
}
