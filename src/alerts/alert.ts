/**
 * The alert model. An alert is a condition with a stable key: while it lasts
 * it is sent once (and again only when its severity changes), and when it
 * clears a "resolved" notification follows. Receivers get notifications,
 * never the live alert object, so a later change cannot alter what was queued.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What fired; receivers filter on it. docs/alerts.md has the table of what fires when. */
export const ALERT_KINDS = [
  'host-failed',
  'failover',
  'restart-failed',
  'action-failed',
  'unplaced',
  'awaiting-fence',
  'fence-failed',
  'fenced',
  'frozen',
  'capacity',
  'poll-failed',
  'policy',
  'controller',
  'host-cpu',
  'host-memory',
  'datastore-free',
  'datastore-lost',
  'datastore-degraded',
  'rpo',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  /** `kind/cluster/subject`: the same condition always has the same key. */
  readonly key: string;
  readonly kind: AlertKind;
  readonly severity: Severity;
  readonly cluster: string;
  /** The host, VM, datastore or cluster it is about. */
  readonly subject: string;
  /** One line a person can act on. */
  readonly summary: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** Epoch milliseconds. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly resolvedAt?: number;
  /** Why it cleared, when it has: `esx-03 responds again`, `5 of 5 VMs restarted`. */
  readonly resolution?: string;
}

export type NotificationStatus = 'firing' | 'resolved';

/** What goes to receivers: one change of one alert. */
export interface Notification {
  readonly status: NotificationStatus;
  /** Why this notification exists: a new alert, a change of severity, or the end of it. */
  readonly reason: 'new' | 'severity-changed' | 'resolved';
  readonly alert: Alert;
  /** The highest severity the alert reached; a resolved notice goes where the alert went. */
  readonly peakSeverity: Severity;
  /** When the change happened (epoch ms). */
  readonly at: number;
}

export function alertKey(kind: AlertKind, cluster: string, subject: string): string {
  return `${kind}/${cluster}/${subject}`;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** The title line every receiver shows: `[CRITICAL] lab: host esx-03 failed` or `[RESOLVED] ...`. */
export function titleOf(n: Notification): string {
  const tag = n.status === 'resolved' ? 'RESOLVED' : n.alert.severity.toUpperCase();
  return `[${tag}] ${n.alert.summary}`;
}
