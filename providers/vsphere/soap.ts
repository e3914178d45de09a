/**
 * The SOAP transport: one POST per call to vCenter's /sdk, the session
 * cookie, timeouts, and answers turned into either the parsed response
 * element or a typed error naming the call. It counts round trips, because
 * the provider's efficiency is measured in them.
 *
 * Nothing here ever puts a request body, a cookie or a password into an
 * error: axios errors (which carry the request config) are never passed on.
 */
import type { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { child, envelope, isNode, parseXml, text, xsiType, XmlSyntaxError, type XNode, type XValue } from './xml.js';

/** A fault vCenter answered with (`<soapenv:Fault>`), typed by its detail's xsi:type. */
export class SoapFault extends Error {
  constructor(
    readonly method: string,
    /** The vim25 fault type, e.g. `InvalidLogin`, `NotAuthenticated`, `ManagedObjectNotFound`. */
    readonly faultType: string,
    readonly faultString: string,
    readonly detail: XNode | undefined,
    readonly status: number,
  ) {
    super(`${method}: ${faultType}${faultString ? `: ${faultString}` : ''}`);
    this.name = 'SoapFault';
  }
}

export type ProtocolProblem = 'network' | 'timeout' | 'tls' | 'http' | 'html' | 'xml' | 'aborted';

/** The answer was not a SOAP answer at all: no connection, a proxy's page, broken XML. */
export class SoapProtocolError extends Error {
  constructor(
    readonly method: string,
    readonly problem: ProtocolProblem,
    message: string,
    readonly status?: number,
  ) {
    super(`${method}: ${message}`);
    this.name = 'SoapProtocolError';
  }
}

export interface SoapResponse {
  /** The `<MethodResponse>` element. */
  readonly body: XNode;
  readonly xsiPrefixes: ReadonlySet<string>;
  /** The raw text, for cheap checks before walking the tree. */
  readonly raw: string;
}

export interface SoapTransportOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly httpsAgent?: HttpsAgent;
}

export const SESSION_COOKIE = 'vmware_soap_session';

export class SoapTransport {
  private readonly http: AxiosInstance;
  /** Round trips so far, by method. */
  readonly calls = new Map<string, number>();
  private total = 0;
  cookie: string | undefined;

  constructor(private readonly o: SoapTransportOptions) {
    this.http = axios.create({
      timeout: o.timeoutMs,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 8 }),
      ...(o.httpsAgent ? { httpsAgent: o.httpsAgent } : {}),
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      maxContentLength: Infinity,
      maxBodyLength: Infinity,
      maxRedirects: 0,
      proxy: false,
    });
  }

  get roundTrips(): number {
    return this.total;
  }

  /**
   * Sends one call. `body` is the method element (`<Login xmlns="urn:vim25">...`).
   * Resolves with the `<LoginResponse>` element; rejects with SoapFault or SoapProtocolError.
   */
  async call(method: string, body: string, signal?: AbortSignal): Promise<SoapResponse> {
    this.total += 1;
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:vim25/6.5"' };
    if (this.cookie) headers.Cookie = `${SESSION_COOKIE}=${this.cookie}`;
    let res;
    try {
      res = await this.http.post<string>(this.o.url, envelope(body), { headers, ...(signal ? { signal } : {}) });
    } catch (e) {
      throw describeTransportError(method, e, this.o.timeoutMs);
    }
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [String(setCookie)] : []) {
      const m = new RegExp(`^\\s*${SESSION_COOKIE}=([^;]*)`).exec(c);
      if (m) this.cookie = m[1];
    }
    const raw = typeof res.data === 'string' ? res.data : '';
    const contentType = String(res.headers['content-type'] ?? '');
    if (/html/i.test(contentType) || /^\s*(<!doctype html|<html)/i.test(raw)) {
      const title = /<title>([^<]{0,120})<\/title>/i.exec(raw)?.[1] ?? /<h1>([^<]{0,120})<\/h1>/i.exec(raw)?.[1];
      throw new SoapProtocolError(method, 'html', `answered with an HTML page (HTTP ${res.status}${title ? `: ${title.trim()}` : ''}), not SOAP; a proxy or load balancer may be in the way`, res.status);
    }
    if (!raw.trim()) throw new SoapProtocolError(method, 'http', `answered HTTP ${res.status} with an empty body`, res.status);
    if (!/<\/(?:[\w.-]+:)?Envelope>\s*$/.test(raw.slice(-256))) {
      throw new SoapProtocolError(method, res.status >= 200 && res.status < 300 ? 'xml' : 'http', `answered HTTP ${res.status} with ${looksLikeXml(raw) ? 'a SOAP answer that was cut short' : 'something that is not SOAP'}`, res.status);
    }
    let parsed;
    try {
      parsed = parseXml(raw);
    } catch (e) {
      if (e instanceof XmlSyntaxError) throw new SoapProtocolError(method, 'xml', e.message, res.status);
      throw e;
    }
    const soapBody = child(child(parsed.root, 'Envelope'), 'Body');
    if (!isNode(soapBody)) throw new SoapProtocolError(method, 'xml', `answered HTTP ${res.status} without a SOAP body`, res.status);
    const fault = soapBody.Fault;
    if (fault !== undefined) throw faultFrom(method, fault, parsed.xsiPrefixes, res.status);
    if (res.status < 200 || res.status >= 300) throw new SoapProtocolError(method, 'http', `answered HTTP ${res.status}`, res.status);
    const response = soapBody[`${method}Response`];
    if (response === undefined) throw new SoapProtocolError(method, 'xml', `answered without a ${method}Response element`, res.status);
    return { body: isNode(response) ? response : {}, xsiPrefixes: parsed.xsiPrefixes, raw };
  }
}

function looksLikeXml(raw: string): boolean {
  return /^\s*</.test(raw);
}

export function faultFrom(method: string, fault: XValue, prefixes: ReadonlySet<string>, status: number): SoapFault {
  const faultString = text(child(fault, 'faultstring'))?.trim() ?? '';
  const detail = child(fault, 'detail');
  let type = 'Unknown';
  let detailNode: XNode | undefined;
  if (isNode(detail)) {
    const key = Object.keys(detail).find((k) => !k.startsWith('@_') && k !== '#text');
    if (key) {
      const d = detail[key];
      detailNode = isNode(d) ? d : undefined;
      type = xsiType(d, prefixes) ?? key.replace(/Fault$/, '');
    }
  }
  if (type === 'Unknown') {
    const code = text(child(fault, 'faultcode'))?.trim();
    if (code) type = code.replace(/^.*:/, '');
  }
  return new SoapFault(method, type, faultString, detailNode, status);
}

function describeTransportError(method: string, e: unknown, timeoutMs: number): SoapProtocolError {
  if (axios.isCancel(e) || (e as { name?: string }).name === 'CanceledError') return new SoapProtocolError(method, 'aborted', 'the call was aborted');
  const code = (e as { code?: string }).code ?? '';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test((e as Error).message ?? '')) {
    return new SoapProtocolError(method, 'timeout', `no answer within ${Math.round(timeoutMs / 100) / 10}s`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code) || /certificate|thumbprint/i.test((e as Error).message ?? '')) {
    return new SoapProtocolError(method, 'tls', `TLS: ${tlsMessage(e)}`);
  }
  const detail = code || (e as Error).message || 'network error';
  return new SoapProtocolError(method, 'network', `cannot reach vCenter (${detail})`);
}

function tlsMessage(e: unknown): string {
  const code = (e as { code?: string }).code ?? '';
  const message = (e as Error).message ?? '';
  if (/thumbprint/i.test(message)) return message;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY') {
    return `the server's certificate is not trusted (${code}); give its CA with caFile, or pin it with thumbprint`;
  }
  return `${code || 'handshake failed'}${message && !message.includes(code) ? `: ${message}` : ''}`;
}
