/**
 * What each receiver makes of a request once it is authenticated and read:
 * either a hint to pass on (about a host, or a whole cluster) or a polite
 * "not ours" with the reason, plus the keys that identify the event so a
 * second delivery collapses into the first.
 */
import type { HintKind, HintSeverity, HookSource } from './types.js';

export interface HintIntent {
  readonly act: 'hint';
  readonly kind: HintKind;
  readonly severity: HintSeverity;
  readonly message: string;
  readonly host?: string;
  readonly cluster?: string;
  readonly platformCluster?: string;
  readonly origin?: string;
  readonly eventTime?: number;
}

export interface Ignored {
  readonly act: 'ignore';
  readonly reason: string;
}

export interface HookEvent {
  readonly source: HookSource;
  /** The platform's event type, for counting and for the hint. */
  readonly type: string;
  /** Any one of these seen before (within the duplicate window) makes this a duplicate. */
  readonly dedupeKeys: readonly string[];
  readonly outcome: HintIntent | Ignored;
}

export type ReadResult = { readonly ok: true; readonly event: HookEvent } | { readonly ok: false; readonly reason: string };

const SEVERITIES: Record<string, HintSeverity> = {
  info: 'info',
  informational: 'info',
  ok: 'info',
  resolved: 'info',
  notice: 'notice',
  warn: 'warning',
  warning: 'warning',
  error: 'error',
  err: 'error',
  critical: 'critical',
  crit: 'critical',
  fatal: 'critical',
  alert: 'critical',
  emergency: 'critical',
  unknown: 'unknown',
};

export function severityOf(v: unknown): HintSeverity {
  return typeof v === 'string' ? (SEVERITIES[v.trim().toLowerCase()] ?? 'unknown') : 'unknown';
}

/** Milliseconds from an ISO time or unix seconds, if it makes sense. */
export function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
  if (typeof v === 'string' && /^\d{1,12}$/.test(v)) return Number(v) * 1000;
  if (typeof v === 'string' && v.length <= 64) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}
