/**
 * /hooks/generic: `{"cluster", "host", "severity", "message"}` from any
 * monitoring system (interfaces.md). Either cluster or host must be given;
 * an optional `id` lets a sender's retries collapse into one hint.
 */
import { z } from 'zod';
import { severityOf, type ReadResult } from './event.js';
import { oneLine, parseJson } from './json.js';

const name = z.string().trim().min(1).max(255);

const genericBody = z.looseObject({
  cluster: name.optional(),
  host: name.optional(),
  severity: z.string().max(64).optional(),
  message: z.string().max(64 * 1024).optional(),
  id: z.string().min(1).max(1024).optional(),
});

export function readGenericHook(body: Buffer, clusterParam?: string): ReadResult {
  const parsed = parseJson(body);
  if (!parsed.ok) return { ok: false, reason: `body is not JSON (${parsed.reason})` };
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return { ok: false, reason: 'body must be a JSON object' };
  const r = genericBody.safeParse(parsed.value);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, reason: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}` };
  }
  const b = r.data;
  const cluster = b.cluster ?? clusterParam;
  if (!cluster && !b.host) return { ok: false, reason: 'name a cluster or a host' };
  return {
    ok: true,
    event: {
      source: 'generic',
      type: 'generic',
      dedupeKeys: b.id ? [`generic\u0000${b.id}`] : [],
      outcome: {
        act: 'hint',
        kind: 'report',
        severity: severityOf(b.severity),
        message: oneLine(b.message?.trim() || `alert about ${b.host ?? cluster ?? ''}`),
        ...(cluster ? { cluster } : {}),
        ...(b.host ? { host: b.host } : {}),
      },
    },
  };
}
