/**
 * /hooks/proxmox: Proxmox VE's notification system (PVE 8.3+ webhook
 * target). Proxmox sends whatever body the target's template renders, so
 * Vigil publishes the template to paste (PROXMOX_BODY_TEMPLATE, documented
 * in docs/webhooks.md). Every value goes through Proxmox's `json` helper,
 * which renders with serde_json, so titles and messages with quotes,
 * backslashes or newlines still make valid JSON.
 *
 * Fencing notifications (fields.type "fencing", fields.hostname = the node
 * being fenced) become hints about that node; failed replication jobs too;
 * package updates, backups and mail for root are ignored, and so is
 * anything else that is not an error or a warning naming a node.
 */
import { createHash } from 'node:crypto';
import { isObject } from './cloudevents.js';
import { severityOf, timeOf, type HintIntent, type ReadResult } from './event.js';
import { oneLine, parseJson } from './json.js';

/**
 * The body template to paste into the Proxmox webhook target: one line, so
 * it survives copy and paste, and a space before the last brace, because
 * `}}}` would close a triple-stash in Handlebars and fail to parse.
 */
export const PROXMOX_BODY_TEMPLATE =
  '{"title": {{ json title }}, "message": {{ json message }}, "severity": {{ json severity }}, "timestamp": {{ json timestamp }}, "fields": {{ json fields }} }';

/** Header value to set on the target, with the token stored as a Proxmox secret named `token`. */
export const PROXMOX_AUTH_HEADER_TEMPLATE = 'Bearer {{ secrets.token }}';

/** Notification types that never say anything about a node's health. */
const NOT_OURS = new Set(['package-updates', 'vzdump', 'system-mail']);

export function readProxmoxHook(body: Buffer): ReadResult {
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, reason: `body is not JSON (${parsed.reason})` };
  const b = parsed.value;
  if (!isObject(b)) return { ok: false, reason: 'not a Proxmox notification: the body is not a JSON object' };
  // The documented template nests the metadata under "fields"; a body that is just {{ json fields }} is accepted too.
  const fields = isObject(b.fields) ? b.fields : typeof b.type === 'string' ? b : undefined;
  if (!fields) return { ok: false, reason: 'not a Proxmox notification: no "fields" object (use the body template in docs/webhooks.md)' };
  // The target's "Test" button sends a notification with no fields at all: accept it, so the test proves the path.
  const type = typeof fields.type === 'string' && fields.type.trim() ? fields.type.trim() : 'untyped';
  const hostname = typeof fields.hostname === 'string' && fields.hostname.trim() && fields.hostname.length <= 255 ? fields.hostname.trim() : undefined;
  const severity = severityOf(b.severity);
  const title = typeof b.title === 'string' ? b.title : '';
  const eventTime = timeOf(b.timestamp);
  const dedupeKeys = [`pve\u0000${canonical([b.timestamp ?? null, b.severity ?? null, title, typeof b.message === 'string' ? b.message : null, sortedEntries(fields)])}`];
  const event = (outcome: HintIntent | { act: 'ignore'; reason: string }): ReadResult => ({ ok: true, event: { source: 'proxmox', type: oneLine(type, 100), dedupeKeys, outcome } });

  const hint = (kind: HintIntent['kind']): ReadResult =>
    event({
      act: 'hint',
      kind,
      severity: kind === 'fencing' && severity === 'unknown' ? 'error' : severity,
      message: oneLine(title || `${type} notification${hostname ? ` for ${hostname}` : ''}`),
      ...(hostname ? { host: hostname } : {}),
      ...(eventTime !== undefined ? { eventTime } : {}),
    });

  if (type === 'fencing') return hint('fencing');
  if (type === 'untyped') return event({ act: 'ignore', reason: `notification without fields.type${title ? ` (${oneLine(title, 100)})` : ''}` });
  if (NOT_OURS.has(type)) return event({ act: 'ignore', reason: `${type} notifications say nothing about a node's health` });
  if (severity !== 'error' && severity !== 'warning' && severity !== 'critical') return event({ act: 'ignore', reason: `${oneLine(type, 100)} notification of severity ${severity}` });
  if (type === 'replication') return hint('replication');
  if (!hostname) return event({ act: 'ignore', reason: `${oneLine(type, 100)} notification names no node` });
  return hint('report');
}

function sortedEntries(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function canonical(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('base64');
}
