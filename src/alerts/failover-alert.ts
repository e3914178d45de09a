/** How a failover shows as an alert: opened with the VMs being restarted, closed with the tally. */
import type { AlertBook } from './book.js';
import { FailoverTracker, type Failover } from './failovers.js';

export function raiseFailover(book: AlertBook, f: Failover, at: number): void {
  const t = FailoverTracker.tally(f);
  const retrying = t.retrying.length ? `; ${t.retrying.length} to retry` : '';
  book.raise({
    kind: 'failover',
    cluster: f.cluster,
    subject: f.host,
    severity: 'warning',
    summary: `Failover of ${f.host} (cluster ${f.cluster}): restarting ${plural(t.vms, 'VM')} on other hosts${retrying}.`,
    details: { host: f.host, ...t, errors: Object.fromEntries(f.errors) },
    at,
  });
}

/** Closes the failover's alert when every VM has an outcome, or when `forced` says why it is over. */
export function finishFailover(book: AlertBook, tracker: FailoverTracker, f: Failover, at: number, forced?: string): void {
  if (!forced && !FailoverTracker.finished(f)) {
    raiseFailover(book, f, at);
    return;
  }
  const t = FailoverTracker.tally(f);
  const parts = [`${t.restarted.length} of ${plural(t.vms, 'VM')} restarted`];
  if (t.down.length) parts.push(`${t.down.length} left down (${t.down.join(', ')}): a person must act`);
  if (t.dropped.length) parts.push(`${t.dropped.length} no longer needed (${t.dropped.join(', ')})`);
  const open = [...t.pending, ...t.retrying];
  if (open.length) parts.push(`${open.length} not followed further (${open.join(', ')})`);
  book.clear('failover', f.cluster, f.host, at, `${forced ? `${forced}; ` : ''}${parts.join('; ')}`, { ...t, errors: Object.fromEntries(f.errors) });
  tracker.close(f);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
