/**
 * One fencing conversation with one Redfish service: its requests carry the
 * credentials' headers, share a timeout and an abort signal, and the HTTP
 * statuses that mean the same thing everywhere are translated here: 401 and
 * 403 are VIGIL_E_FENCE_AUTH, other failures VIGIL_E_FENCE_FAILED naming the
 * URL (retryable when the BMC says it is busy or broken).
 */
import { ErrorCodes } from '../errors.js';
import { fenceError, scrub } from './errors.js';
import { asResource, redfishErrorText } from './redfish-resources.js';
import type { HttpRequest, HttpResponse, HttpTransport } from './types.js';

export class RedfishClient {
  #authHeaders: Record<string, string> = {};
  readonly #secrets: readonly string[];

  constructor(
    private readonly http: HttpTransport,
    private readonly timeoutMs: number,
    private readonly username: string,
    secrets: readonly string[],
    private readonly signal?: AbortSignal,
  ) {
    this.#secrets = secrets;
  }

  setAuthHeaders(headers: Record<string, string>): void {
    this.#authHeaders = { ...headers };
  }

  /** Sends a request; any status but 401/403 is returned. */
  async send(method: HttpRequest['method'], url: string, body?: unknown, withAuth = true): Promise<HttpResponse> {
    const res = await this.http(
      {
        method,
        url,
        headers: { 'OData-Version': '4.0', ...(withAuth ? this.#authHeaders : {}) },
        ...(body === undefined ? {} : { body }),
        timeoutMs: this.timeoutMs,
      },
      this.signal,
    );
    if (res.status === 401 || res.status === 403) {
      const why = this.text(res.body);
      throw fenceError(
        ErrorCodes.FENCE_AUTH,
        `${method} ${url}: the BMC refused the credentials of user "${this.username}" (HTTP ${res.status}${why ? `: ${why}` : ''}); check username and password, and that the account may power the system off`,
        { details: { url, status: res.status } },
      );
    }
    return res;
  }

  /** GETs a resource that must answer 200 with a JSON object. */
  async get(url: string): Promise<Record<string, unknown>> {
    const res = await this.send('GET', url);
    if (res.status !== 200) throw this.statusError('GET', url, res);
    return asResource(res.body, url);
  }

  statusError(method: string, url: string, res: HttpResponse): Error {
    const why = this.text(res.body);
    return fenceError(ErrorCodes.FENCE_FAILED, `${method} ${url}: the BMC answered HTTP ${res.status}${why ? `: ${why}` : ''}`, {
      retryable: res.status >= 500 || res.status === 409 || res.status === 429,
      details: { url, status: res.status },
    });
  }

  /** A BMC's error text, with the credentials scrubbed out in case it echoes them. */
  text(body: unknown): string {
    return scrub(redfishErrorText(body), this.#secrets, 300);
  }
}
