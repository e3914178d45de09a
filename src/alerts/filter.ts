/**
 * Which alerts a receiver takes: by severity, kind and cluster. A resolved
 * notice is not filtered here: it goes to exactly the receivers that were
 * sent the alert while it fired (see dispatcher.ts), whatever its severity
 * was by then.
 */
import type { Alert, AlertKind, Severity } from './alert.js';

export interface ReceiverFilter {
  readonly severities?: readonly Severity[];
  readonly kinds?: readonly AlertKind[];
  readonly clusters?: readonly string[];
}

export function accepts(f: ReceiverFilter, a: Alert): boolean {
  if (f.severities && !f.severities.includes(a.severity)) return false;
  if (f.kinds && !f.kinds.includes(a.kind)) return false;
  if (f.clusters && !f.clusters.includes(a.cluster)) return false;
  return true;
}
