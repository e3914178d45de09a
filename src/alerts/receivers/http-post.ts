/**
 * POSTs a JSON body for the HTTP receivers (webhook, Slack, Teams) with
 * undici, TLS verified unless the receiver says `insecure`, and turns the
 * answer into success or a DeliveryError: 2xx is delivered; 408, 425, 429
 * and 5xx and network errors may be retried; any other status is a
 * configuration problem that retrying cannot fix. Error messages carry the
 * status and a short excerpt of the answer, never the URL (Slack and Teams
 * URLs are themselves credentials).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from '../../log.js';
import { DeliveryError } from '../receiver.js';

export interface HttpTarget {
  readonly url: string;
  readonly caFile?: string;
  readonly insecure: boolean;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);
const EXCERPT = 200;

/** An undici dispatcher for a receiver's TLS settings, or undefined for the default (system CAs, verified). */
export function tlsDispatcher(name: string, t: HttpTarget, baseDir: string, logger: Logger): Dispatcher | undefined {
  if (t.insecure) {
    logger.warn({ receiver: name }, `alert receiver ${name}: TLS certificate verification is OFF (insecure: true)`);
    return new Agent({ connect: { rejectUnauthorized: false } });
  }
  if (t.caFile) return new Agent({ connect: { ca: readFileSync(resolve(baseDir, t.caFile), 'utf8') } });
  return undefined;
}

export async function postJson(body: string, headers: Record<string, string>, t: HttpTarget, dispatcher: Dispatcher | undefined, signal: AbortSignal): Promise<string> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(t.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'vigil-alerts', ...headers },
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (e) {
    if (signal.aborted) throw signal.reason instanceof DeliveryError ? signal.reason : new DeliveryError('aborted', { retryable: true, cause: e });
    throw new DeliveryError(`cannot reach the receiver: ${networkMessage(e)}`, { retryable: !/certificate|self.signed|CERT_|unable to verify/i.test(networkMessage(e)), cause: e });
  }
  let text = '';
  try {
    text = await res.body.text();
  } catch (e) {
    if (signal.aborted) throw signal.reason instanceof DeliveryError ? signal.reason : new DeliveryError('aborted', { retryable: true, cause: e });
    // The status is what counts; an unreadable body after a 2xx is still delivered.
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return text;
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, EXCERPT);
  const retryable = RETRYABLE_STATUS.has(res.statusCode) || res.statusCode >= 500;
  const retryAfterMs = retryAfter(res.headers['retry-after']);
  throw new DeliveryError(`the receiver answered HTTP ${res.statusCode}${excerpt ? `: ${excerpt}` : ''}`, { retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

/** `Retry-After` in seconds (the form Slack and most services send); dates are ignored. */
function retryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s || !/^\d+$/.test(s.trim())) return undefined;
  return Number(s.trim()) * 1000;
}

/** The network error's code and message, without the URL undici may put in it. */
function networkMessage(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : undefined;
  const message = typeof err.message === 'string' ? err.message : String(e);
  const cleaned = message.replace(/https?:\/\/\S+/g, '<url>');
  return code && !cleaned.includes(code) ? `${code}: ${cleaned}` : cleaned;
}
