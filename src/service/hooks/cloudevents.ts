/**
 * Reads one CloudEvent (1.0, or 0.3 which has the same required
 * attributes) from an HTTP request, in either content mode of the
 * CloudEvents HTTP binding, as the VMware Event Broker Appliance sends them:
 *
 *   structured: Content-Type application/cloudevents+json, the whole event
 *               is the JSON body (also accepted as plain application/json
 *               when the body carries `specversion`);
 *   binary:     attributes in ce-* headers, the event data is the body.
 *
 * Batched mode is refused with a reason. Nothing here knows about vCenter.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseJson } from './json.js';

export interface CloudEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly data?: unknown;
  readonly mode: 'structured' | 'binary';
}

export type CloudEventResult = { readonly ok: true; readonly event: CloudEvent } | { readonly ok: false; readonly reason: string };

const SPEC_VERSIONS = new Set(['1.0', '0.3']);
const MAX_ATTRIBUTE_CHARS = 2048;

export function readCloudEvent(headers: IncomingHttpHeaders, body: Buffer): CloudEventResult {
  const contentType = mediaType(headers['content-type']);
  if (contentType === 'application/cloudevents-batch+json') return { ok: false, reason: 'batched CloudEvents are not supported: send one event per request' };
  if (contentType.startsWith('application/cloudevents')) return structured(body);
  if (header(headers, 'ce-specversion') !== undefined) return binary(headers, body, contentType);
  // Not announced either way: a JSON body that carries specversion is a structured event sent as plain JSON (curl, simple relays).
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, reason: `not a CloudEvent: no ce-specversion header, and the body is not JSON (${parsed.reason})` };
  if (isObject(parsed.value) && 'specversion' in parsed.value) return attributes(parsed.value, 'structured');
  return { ok: false, reason: 'not a CloudEvent: no ce-specversion header and no specversion in the body' };
}

function structured(body: Buffer): CloudEventResult {
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, reason: `body is not JSON (${parsed.reason})` };
  if (!isObject(parsed.value)) return { ok: false, reason: 'not a CloudEvent: the body is not a JSON object' };
  return attributes(parsed.value, 'structured');
}

function attributes(o: Record<string, unknown>, mode: 'structured'): CloudEventResult {
  const req = required((k) => o[k]);
  if (!req.ok) return req;
  let data: unknown = o.data;
  if (data === undefined && typeof o.data_base64 === 'string') {
    const decoded = parseJson(Buffer.from(o.data_base64, 'base64'));
    data = decoded.ok ? decoded.value : undefined;
  }
  return {
    ok: true,
    event: { ...req.attrs, ...optional(o.subject, 'subject'), ...optional(o.time, 'time'), ...(data === undefined ? {} : { data }), mode },
  };
}

function binary(headers: IncomingHttpHeaders, body: Buffer, contentType: string): CloudEventResult {
  const req = required((k) => header(headers, `ce-${k}`));
  if (!req.ok) return req;
  let data: unknown;
  if (body.length > 0) {
    const jsonish = contentType === '' || contentType === 'application/json' || contentType.endsWith('+json') || contentType === 'text/json';
    if (!jsonish) return { ok: false, reason: `event data must be JSON, not ${contentType.slice(0, 100)}` };
    const parsed = parseJson(body);
    if (!parsed.ok) return { ok: false, reason: `body is not JSON (${parsed.reason})` };
    data = parsed.value;
  }
  return {
    ok: true,
    event: { ...req.attrs, ...optional(header(headers, 'ce-subject'), 'subject'), ...optional(header(headers, 'ce-time'), 'time'), ...(data === undefined ? {} : { data }), mode: 'binary' },
  };
}

function required(get: (k: string) => unknown): { ok: true; attrs: { specversion: string; id: string; source: string; type: string } } | { ok: false; reason: string } {
  const specversion = get('specversion');
  if (typeof specversion !== 'string' || !SPEC_VERSIONS.has(specversion)) return { ok: false, reason: 'not a CloudEvent: specversion must be "1.0"' };
  const attrs: Record<string, string> = { specversion };
  for (const k of ['id', 'source', 'type']) {
    const v = get(k);
    if (typeof v !== 'string' || v.length === 0) return { ok: false, reason: `not a CloudEvent: ${k} is missing` };
    if (v.length > MAX_ATTRIBUTE_CHARS) return { ok: false, reason: `not a CloudEvent: ${k} is too long` };
    attrs[k] = v;
  }
  return { ok: true, attrs: attrs as { specversion: string; id: string; source: string; type: string } };
}

function optional<K extends string>(v: unknown, key: K): Partial<Record<K, string>> {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ATTRIBUTE_CHARS ? ({ [key]: v } as Record<K, string>) : {};
}

/** The media type without parameters, lower-cased; '' when absent. */
export function mediaType(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v[0] : v;
  return (s ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
