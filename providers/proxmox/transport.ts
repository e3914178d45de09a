/**
 * Vigil's own `ApiRequestable` for proxmox-api: the typed call surface of
 * proxmox-api (`api.nodes.$(n).qemu.$(id).migrate.$post(...)`) on a
 * transport whose behaviour we control:
 *
 * - typed errors with the HTTP status and the endpoint (proxmox-api's own
 *   engine throws plain strings);
 * - NO automatic retry of a request. proxmox-api's engine retries every
 *   failed request once, POSTs included, so a `migrate` that timed out after
 *   the server accepted it would run twice. Here a request is sent once;
 *   the operations decide, after looking at the guest's lock and recent
 *   tasks, whether anything should be sent again. The one protocol retry
 *   kept is a new login after an expired ticket (401), which sends nothing
 *   twice that the server had accepted;
 * - strict answers: JSON with a `data` member, else a typed "malformed"
 *   error naming the endpoint (an HTML error page or a truncated body must
 *   never become `null` and a guest "off");
 * - TLS from tls.ts; fallback to other nodes' APIs when one does not answer
 *   (GETs always; POSTs only when the request provably never left).
 */
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import proxmoxApi, { type ApiRequestable, type Proxmox } from 'proxmox-api';
import { PveAuthError, PveHttpError, PveMalformedError, PveNetworkError, PveTlsError } from './errors.js';
import { FingerprintMismatchError } from './tls.js';

export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  dispatcher?: Dispatcher;
}

export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

export type Credentials = { readonly kind: 'token'; readonly tokenId: string; readonly secret: string } | { readonly kind: 'ticket'; readonly username: string; readonly password: string };

export interface TransportOptions {
  /** Base URLs (scheme, host, port), the preferred one first. */
  readonly endpoints: readonly string[];
  readonly credentials: Credentials;
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher;
  /** Tests hand in nock's patched global fetch; production uses undici 7's fetch with the TLS agent. */
  readonly fetch?: FetchLike;
  /** Current time, for ticket age. */
  readonly now?: () => number;
}

/** A ticket is valid for 2 hours; log in again well before. */
const TICKET_MAX_AGE_MS = 90 * 60_000;
/** Connection errors that prove the request was never sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|VIGIL_TLS|SSL|DEPTH_ZERO/;

export class PveTransport implements ApiRequestable {
  /** HTTP requests sent since creation (the benchmark's api_calls). */
  calls = 0;
  private current = 0;
  private ticket?: { ticket: string; csrf: string; at: number };
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;

  constructor(private readonly o: TransportOptions) {
    if (!o.endpoints.length) throw new Error('no endpoint');
    this.fetchFn = o.fetch ?? ((url, init) => undiciFetch(url, init));
    this.now = o.now ?? Date.now;
  }

  /** The typed proxmox-api surface on this transport. */
  api(): Proxmox.Api {
    return proxmoxApi(this);
  }

  get endpoint(): string {
    return this.o.endpoints[this.current] as string;
  }

  get endpointCount(): number {
    return this.o.endpoints.length;
  }

  /** Moves on to the next configured API (used when one answers but is not quorate). */
  rotate(): void {
    this.current = (this.current + 1) % this.o.endpoints.length;
  }

  async doRequest(httpMethod: string, path: string, _pathTemplate: string, params?: Record<string, unknown>): Promise<unknown> {
    const method = httpMethod.toUpperCase();
    const tried = new Set<number>();
    for (;;) {
      tried.add(this.current);
      try {
        return await this.once(method, path, params, false);
      } catch (e) {
        const next = (this.current + 1) % this.o.endpoints.length;
        const canMove = e instanceof PveNetworkError && (method === 'GET' || !e.sent) && !tried.has(next);
        if (!canMove) throw e;
        this.current = next;
      }
    }
  }

  private async once(method: string, path: string, params: Record<string, unknown> | undefined, relogged: boolean): Promise<unknown> {
    const base = this.endpoint;
    const url = new URL(`${base}${path}`);
    const endpoint = `${url.pathname}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    await this.authorize(headers, base);
    let body: string | undefined;
    const encoded = encodeParams(params);
    if (method === 'POST' || method === 'PUT') {
      body = encoded.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      for (const [k, v] of encoded) url.searchParams.append(k, v);
    }
    const res = await this.send(method, url.toString(), endpoint, headers, body);
    if (res.status === 401 && this.o.credentials.kind === 'ticket' && !relogged) {
      // An expired or revoked ticket: log in once more, as the protocol expects.
      this.ticket = undefined;
      return this.once(method, path, params, true);
    }
    return this.read(method, endpoint, res);
  }

  private async send(method: string, url: string, endpoint: string, headers: Record<string, string>, body: string | undefined): Promise<FetchResponse & { bodyText: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.o.timeoutMs);
    this.calls += 1;
    try {
      const res = await this.fetchFn(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: controller.signal, ...(this.o.dispatcher ? { dispatcher: this.o.dispatcher } : {}) });
      const bodyText = await res.text();
      return Object.assign(res, { bodyText });
    } catch (e) {
      const code = errorCode(e);
      if (code && TLS_CODES.test(code)) throw new PveTlsError(new URL(url).origin, code, causeMessage(e));
      if (timedOut) throw new PveNetworkError(method, endpoint, true, true, `${this.o.timeoutMs} ms passed`);
      throw new PveNetworkError(method, endpoint, !(code && NOT_SENT.has(code)), false, `${code ?? 'error'}: ${causeMessage(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private read(method: string, endpoint: string, res: FetchResponse & { bodyText: string }): unknown {
    const type = res.headers.get('content-type') ?? '';
    const json = /^application\/json\b/i.test(type);
    let parsed: unknown;
    let parseError: string | undefined;
    if (json) {
      try {
        parsed = JSON.parse(res.bodyText);
      } catch (e) {
        parseError = `invalid JSON (${(e as Error).message}; ${res.bodyText.length} bytes; truncated?)`;
      }
    }
    if (res.status === 200) {
      if (!json) throw new PveMalformedError(method, endpoint, `expected JSON, got ${type ? `"${type}"` : 'no content type'}${looksHtml(res.bodyText) ? ' (an HTML page)' : ''}`);
      if (parseError) throw new PveMalformedError(method, endpoint, parseError);
      if (typeof parsed !== 'object' || parsed === null || !('data' in parsed)) throw new PveMalformedError(method, endpoint, 'no "data" member');
      return (parsed).data;
    }
    // PVE puts its message in the reason phrase; some versions and proxies repeat it as "message" in the body.
    const bodyMessage = parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string' ? (parsed as { message: string }).message.trim() : '';
    const reason = bodyMessage || res.statusText || (looksHtml(res.bodyText) ? 'an HTML error page' : '');
    if (res.status === 401) throw new PveAuthError(endpoint, 401, reason);
    const errors = parsed && typeof parsed === 'object' ? (parsed as { errors?: unknown }).errors : undefined;
    const fieldErrors = errors && typeof errors === 'object' ? Object.fromEntries(Object.entries(errors as Record<string, unknown>).map(([k, v]) => [k, String(v).trim()])) : undefined;
    throw new PveHttpError(method, endpoint, res.status, reason, fieldErrors);
  }

  private async authorize(headers: Record<string, string>, base: string): Promise<void> {
    const c = this.o.credentials;
    if (c.kind === 'token') {
      headers.Authorization = `PVEAPIToken=${c.tokenId}=${c.secret}`;
      return;
    }
    if (!this.ticket || this.now() - this.ticket.at > TICKET_MAX_AGE_MS) this.ticket = await this.login(base, c);
    headers.Cookie = `PVEAuthCookie=${this.ticket.ticket}`;
    headers.CSRFPreventionToken = this.ticket.csrf;
  }

  private async login(base: string, c: { username: string; password: string }): Promise<{ ticket: string; csrf: string; at: number }> {
    const endpoint = '/api2/json/access/ticket';
    const body = new URLSearchParams({ username: c.username, password: c.password }).toString();
    const res = await this.send('POST', `${base}${endpoint}`, endpoint, { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }, body);
    if (res.status === 401 || res.status === 403) throw new PveAuthError(endpoint, res.status, res.statusText);
    const data = this.read('POST', endpoint, res) as { ticket?: unknown; CSRFPreventionToken?: unknown; NeedTFA?: unknown } | null;
    if (data && data.NeedTFA) throw new PveAuthError(endpoint, 200, 'the account needs a second factor (TFA); use an API token instead');
    if (!data || typeof data.ticket !== 'string' || typeof data.CSRFPreventionToken !== 'string') throw new PveMalformedError('POST', endpoint, 'no ticket in the login answer');
    return { ticket: data.ticket, csrf: data.CSRFPreventionToken, at: this.now() };
  }
}

/** As proxmox-api encodes: booleans as 1/0, arrays as repeated keys, null/undefined left out. */
export function encodeParams(params: Record<string, unknown> | undefined): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === null || v === undefined) continue;
    const one = (x: unknown): string => (x === true ? '1' : x === false ? '0' : typeof x === 'string' ? x : JSON.stringify(x));
    if (Array.isArray(v)) for (const e of v) out.append(k, one(e));
    else out.set(k, one(v));
  }
  return out;
}

function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (cur instanceof FingerprintMismatchError) return cur.code;
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
  }
  return undefined;
}

function causeMessage(e: unknown): string {
  let cur: unknown = e;
  while (cur && (cur as { cause?: unknown }).cause) cur = (cur as { cause: unknown }).cause;
  return cur instanceof Error ? cur.message : String(cur);
}

function looksHtml(text: string): boolean {
  return /^\s*<(!doctype|html)/i.test(text);
}
