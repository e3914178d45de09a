/**
 * The book of alerts in force. Sources say "this condition holds" (`raise`)
 * or "it no longer does" (`clear`); the book turns that into notifications:
 * one when a key first fires, one when its severity changes, one when it
 * clears. Repeating a raise while the condition lasts only moves `lastSeen`,
 * so a condition seen on every poll is not sent on every poll.
 */
import { alertKey, maxSeverity, type Alert, type AlertKind, type Notification, type Severity } from './alert.js';

export interface Raise {
  readonly kind: AlertKind;
  readonly cluster: string;
  readonly subject: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly at: number;
}

interface Entry {
  alert: Alert;
  peak: Severity;
}

export type NotificationSink = (n: Notification) => void;

export class AlertBook {
  private readonly active = new Map<string, Entry>();

  constructor(private readonly sink: NotificationSink) {}

  /**
   * The condition holds. New: sent. Same severity: summary and details are
   * refreshed quietly. Other severity: sent again with the new one.
   */
  raise(r: Raise): Alert {
    const key = alertKey(r.kind, r.cluster, r.subject);
    const before = this.active.get(key);
    const alert: Alert = {
      key,
      kind: r.kind,
      severity: r.severity,
      cluster: r.cluster,
      subject: r.subject,
      summary: r.summary,
      details: { ...(before?.alert.details ?? {}), ...(r.details ?? {}) },
      firstSeen: before?.alert.firstSeen ?? r.at,
      lastSeen: r.at,
    };
    const peak = before ? maxSeverity(before.peak, r.severity) : r.severity;
    this.active.set(key, { alert, peak });
    if (!before) this.sink({ status: 'firing', reason: 'new', alert, peakSeverity: peak, at: r.at });
    else if (before.alert.severity !== r.severity) this.sink({ status: 'firing', reason: 'severity-changed', alert, peakSeverity: peak, at: r.at });
    return alert;
  }

  /** The condition is over: sends the resolved notice, once. */
  clear(kind: AlertKind, cluster: string, subject: string, at: number, resolution: string, details?: Readonly<Record<string, unknown>>): boolean {
    const key = alertKey(kind, cluster, subject);
    const entry = this.active.get(key);
    if (!entry) return false;
    this.active.delete(key);
    const alert: Alert = { ...entry.alert, details: { ...entry.alert.details, ...(details ?? {}) }, lastSeen: at, resolvedAt: at, resolution };
    this.sink({ status: 'resolved', reason: 'resolved', alert, peakSeverity: entry.peak, at });
    return true;
  }

  get(kind: AlertKind, cluster: string, subject: string): Alert | undefined {
    return this.active.get(alertKey(kind, cluster, subject))?.alert;
  }

  /** Alerts in force, optionally of one kind (and cluster). */
  list(kind?: AlertKind, cluster?: string): Alert[] {
    return [...this.active.values()].map((e) => e.alert).filter((a) => (!kind || a.kind === kind) && (cluster === undefined || a.cluster === cluster));
  }
}
