/**
 * Turns the controller's decisions into alerts. The mapping (docs/alerts.md
 * has it as a table):
 *
 * | decision                                   | alert            | severity | clears on                                        |
 * | ------------------------------------------ | ---------------- | -------- | ------------------------------------------------ |
 * | host-health -> failed                      | host-failed      | critical | host-health -> healthy / maintenance             |
 * | host-health -> fenced, fenced              | fenced           | warning  | host-health -> healthy / maintenance             |
 * | restart-planned (first of a host)          | failover         | warning  | every VM restarted, given up or no longer needed |
 * | action-failed (restart)                    | restart-failed   | warning  | action-succeeded for the VM, or the VM runs      |
 * | action-failed (migrate, maintenance)       | action-failed    | warning  | action-succeeded for the same subject            |
 * | unplaced                                   | unplaced         | critical | the VM restarted, or no longer waiting           |
 * | awaiting-fence, no fencing agent for it     | awaiting-fence   | critical | fenced, or the host is back                      |
 * | alert with fencing text                    | fence-failed     | critical | fenced, or the host is back                      |
 * | frozen                                     | frozen           | critical | unfrozen                                         |
 * | alert "failover capacity below policy"     | capacity         | warning  | info "failover capacity meets policy again"      |
 * | poll-failed                                | poll-failed      | warning  | poll-recovered                                   |
 * | alert about policies (reload refused)      | policy           | warning  | info "policies reloaded"                         |
 * | any other alert                            | controller       | warning  | not repeated for `staleAfter` (see from-status)  |
 *
 * Progress decisions (action-started, skipped, orchestration, journal,
 * observe-only, fencing) send nothing.
 */
import type { Decision } from '../decisions.js';
import type { AlertBook } from './book.js';
import { finishFailover, raiseFailover } from './failover-alert.js';
import type { FailoverTracker } from './failovers.js';

const BACK = new Set(['healthy', 'maintenance']);

export class DecisionAlerts {
  constructor(
    private readonly book: AlertBook,
    private readonly failovers: FailoverTracker,
  ) {}

  /** Never throws: a decision the mapping cannot read is skipped, not fatal to the controller. */
  onDecision(d: Decision): void {
    // Kinds are compared as text: the controller may add kinds (fencing) before this module knows their type.
    const kind: string = d.kind;
    const at = d.at;
    const c = d.cluster;
    const data = d.data ?? {};
    const { book } = this;
    switch (kind) {
      case 'host-health': {
        const to = str(data.to);
        const reason = afterColon(d.message);
        if (to === 'failed') {
          book.raise({ kind: 'host-failed', cluster: c, subject: d.subject, severity: 'critical', summary: `Host ${d.subject} in cluster ${c} failed (${reason}). Vigil restarts its VMs elsewhere once it is known to be down.`, details: { host: d.subject, reason }, at });
        } else if (to === 'fenced') {
          this.fenced(c, d.subject, reason, at);
        } else if (to && BACK.has(to)) {
          this.hostBack(c, d.subject, to, at);
        }
        return;
      }
      case 'restart-planned': {
        const from = str(data.from);
        // A VM that died with its storage on a live host is no host failover (the storage alerts cover it).
        if (!from || data.cause === 'storage-loss') return;
        const { failover } = this.failovers.planned(c, from, d.subject);
        raiseFailover(book, failover, at);
        return;
      }
      case 'action-succeeded': {
        const action = str(data.action);
        if (action === 'restart') {
          book.clear('restart-failed', c, d.subject, at, `${d.subject} restarted: ${d.message}`);
          book.clear('unplaced', c, d.subject, at, `${d.subject} restarted: ${d.message}`);
          const f = this.failovers.outcome(c, d.subject, 'restarted');
          if (f) finishFailover(book, this.failovers, f, at);
        } else if (action) {
          book.clear('action-failed', c, `${action}:${d.subject}`, at, d.message);
        }
        return;
      }
      case 'action-failed': {
        const action = str(data.action);
        const error = afterFailed(d.message);
        if (action === 'restart') {
          const from = this.failovers.originOf(c, d.subject);
          book.raise({
            kind: 'restart-failed',
            cluster: c,
            subject: d.subject,
            severity: 'warning',
            summary: `Restart of VM ${d.subject}${from ? ` (from failed host ${from})` : ''} in cluster ${c} failed: ${error}. Vigil tries again, on another host if it can; it raises "unplaced" if it gives up.`,
            details: { vm: d.subject, ...(from ? { from } : {}), error, ...(data.code ? { code: data.code } : {}) },
            at,
          });
          const f = this.failovers.outcome(c, d.subject, 'retrying', error);
          if (f) raiseFailover(book, f, at);
        } else if (action) {
          // A migration off a host that lost storage is the storage planner's: it backs off and tries again, then gives up.
          const next = data.cause === 'storage-loss' ? 'Vigil tries again after a backoff while the storage loss lasts, then leaves it to a person' : 'Vigil does not repeat a planned operation by itself';
          book.raise({ kind: 'action-failed', cluster: c, subject: `${action}:${d.subject}`, severity: 'warning', summary: `${d.message} (cluster ${c}). Check ${d.subject}; ${next}.`, details: { action, subject: d.subject, error, ...(data.cause ? { cause: data.cause } : {}) }, at });
        }
        return;
      }
      case 'action-dropped': {
        if (str(data.action) !== 'restart') return;
        const f = this.failovers.outcome(c, d.subject, 'dropped');
        if (f) finishFailover(book, this.failovers, f, at);
        return;
      }
      case 'unplaced': {
        const reason = afterColon(d.message);
        const from = this.failovers.originOf(c, d.subject) ?? fromInParens(d.message);
        book.raise({
          kind: 'unplaced',
          cluster: c,
          subject: d.subject,
          severity: 'critical',
          summary: `VM ${d.subject}${from ? ` (from ${from})` : ''} in cluster ${c} stays down: ${reason}. A person must act: free capacity, relax its placement rules, or start it by hand.`,
          details: { vm: d.subject, ...(from ? { from } : {}), reason },
          at,
        });
        const f = this.failovers.outcome(c, d.subject, 'down', reason);
        if (f) finishFailover(book, this.failovers, f, at);
        return;
      }
      case 'awaiting-fence': {
        // While Vigil fences the host itself there is nothing for a person to do yet; a failure raises fence-failed.
        if (data.fenceable === true) return;
        const host = str(data.host) ?? str(data.from) ?? d.subject;
        const before = book.get('awaiting-fence', c, host);
        const vms = new Set<string>(asStrings(before?.details.vms));
        if (str(data.vm)) vms.add(str(data.vm) as string);
        else if (d.subject !== host) vms.add(d.subject);
        book.raise({
          kind: 'awaiting-fence',
          cluster: c,
          subject: host,
          severity: 'critical',
          summary: `VMs of ${host} (cluster ${c}) wait for the host to be fenced before they restart: ${d.message}. If ${host} is known to be off, confirm it with \`vigil fence confirm ${host}\`.`,
          details: { host, vms: [...vms].sort(), reason: d.message },
          at,
        });
        return;
      }
      case 'fenced': {
        this.fenced(c, str(data.host) ?? d.subject, d.message, at);
        return;
      }
      case 'frozen':
        book.raise({ kind: 'frozen', cluster: c, subject: c, severity: 'critical', summary: `Automation is frozen on cluster ${c}: ${d.message}. Vigil takes no action there until a person runs \`vigil unfreeze --cluster ${c}\`.`, details: { reason: d.message }, at });
        return;
      case 'unfrozen':
        book.clear('frozen', c, c, at, `automation resumed: ${d.message}`);
        return;
      case 'poll-failed':
        book.raise({ kind: 'poll-failed', cluster: c, subject: c, severity: 'warning', summary: `Vigil cannot read cluster ${c}: ${afterColon(d.message)}. Until it answers, no failover happens there.`, details: { error: d.message }, at });
        return;
      case 'poll-recovered':
        book.clear('poll-failed', c, c, at, d.message);
        return;
      case 'alert':
        this.alertDecision(d);
        return;
      case 'info':
        if (/failover capacity meets policy again/i.test(d.message)) book.clear('capacity', c, c, at, d.message);
        else if (d.subject === 'policies' && /reloaded/i.test(d.message)) book.clear('policy', c, 'policies', at, d.message);
        return;
      default:
        return;
    }
  }

  private alertDecision(d: Decision): void {
    const { book } = this;
    const c = d.cluster;
    const at = d.at;
    const data = d.data ?? {};
    if (/failover capacity below policy/i.test(d.message)) {
      book.raise({ kind: 'capacity', cluster: c, subject: c, severity: 'warning', summary: `Cluster ${c} cannot take the host failures its policy asks for: ${afterColon(d.message)}. Add capacity, or lower admission.tolerateHostFailures.`, details: { ...data, reason: d.message }, at });
    } else if (d.subject === 'policies') {
      book.raise({ kind: 'policy', cluster: c, subject: 'policies', severity: 'warning', summary: `${d.message}. Fix the policy files; \`vigil validate\` shows where.`, details: { reason: d.message }, at });
    } else if (/fenc/i.test(d.message)) {
      const host = str(data.host) ?? d.subject;
      book.raise({ kind: 'fence-failed', cluster: c, subject: host, severity: 'critical', summary: `Fencing ${host} (cluster ${c}) failed: ${d.message}. Its VMs stay down until it is fenced; check its BMC (Redfish/IPMI), or if it is known to be off run \`vigil fence confirm ${host}\`.`, details: { host, reason: d.message }, at });
    } else {
      // No clearing signal exists for these: the key includes the text, and from-status forgets them once they stop repeating.
      book.raise({ kind: 'controller', cluster: c, subject: `${d.subject}: ${shortHash(d.message)}`, severity: 'warning', summary: `${d.subject} (cluster ${c}): ${d.message}`, details: { subject: d.subject, message: d.message }, at });
    }
  }

  private fenced(c: string, host: string, message: string, at: number): void {
    const { book } = this;
    book.raise({ kind: 'fenced', cluster: c, subject: host, severity: 'warning', summary: `Host ${host} in cluster ${c} was fenced (${message}); its VMs are released for restart elsewhere. Bring it back only after finding why it failed.`, details: { host, evidence: message }, at });
    book.clear('awaiting-fence', c, host, at, `${host} fenced: ${message}`);
    book.clear('fence-failed', c, host, at, `${host} fenced: ${message}`);
  }

  private hostBack(c: string, host: string, to: string, at: number): void {
    const { book } = this;
    const why = to === 'maintenance' ? `${host} is in maintenance mode` : `${host} responds again`;
    for (const kind of ['host-failed', 'fenced', 'awaiting-fence', 'fence-failed'] as const) book.clear(kind, c, host, at, why);
    const f = this.failovers.get(c, host);
    if (f) finishFailover(book, this.failovers, f, at, why);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `healthy -> failed: not responding on 3 polls` -> `not responding on 3 polls`. */
function afterColon(message: string): string {
  const i = message.indexOf(': ');
  return i >= 0 ? message.slice(i + 2) : message;
}

/** `restart a on b (from c, wave 1) failed: why` -> `why`. */
function afterFailed(message: string): string {
  const i = message.indexOf(' failed: ');
  return i >= 0 ? message.slice(i + ' failed: '.length) : message;
}

/** `cannot restart (from esx-01, priority medium): ...` -> `esx-01`. */
function fromInParens(message: string): string | undefined {
  return /\(from ([^,)]+)/.exec(message)?.[1];
}

/** A short stable tag for a text (FNV-1a), so distinct generic alerts about one subject get distinct keys. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
