/**
 * Every decision the controller makes is one record with its reason: host
 * health changes, plans, actions and their outcomes. Records go to the log
 * (pino), to a ring buffer for `status` and the status page, and to
 * subscribers (the demo, tests). Scenario tests compare their text form.
 */
import type { Logger } from './log.js';

export type DecisionKind =
  | 'host-health'
  | 'poll-failed'
  | 'poll-recovered'
  | 'restart-planned'
  | 'migrate-planned'
  | 'unplaced'
  | 'skipped'
  | 'observe-only'
  | 'action-started'
  | 'action-succeeded'
  | 'action-failed'
  | 'action-dropped'
  | 'orchestration'
  | 'fencing'
  | 'fenced'
  | 'awaiting-fence'
  | 'frozen'
  | 'unfrozen'
  | 'alert'
  | 'journal'
  | 'storage'
  | 'rpo'
  | 'info';

export interface Decision {
  readonly at: number;
  readonly cluster: string;
  readonly kind: DecisionKind;
  /** The host, VM or datastore the decision is about. */
  readonly subject: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export type DecisionListener = (d: Decision) => void;

export class DecisionLog {
  private readonly ring: Decision[] = [];
  private readonly listeners = new Set<DecisionListener>();

  constructor(
    private readonly logger?: Logger,
    private readonly capacity = 500,
  ) {}

  record(d: Decision): void {
    this.ring.push(d);
    if (this.ring.length > this.capacity) this.ring.shift();
    const level = d.kind === 'action-failed' || d.kind === 'poll-failed' || d.kind === 'unplaced' || d.kind === 'frozen' || d.kind === 'alert' || d.kind === 'storage' || d.kind === 'rpo' ? 'warn' : 'info';
    this.logger?.[level]({ cluster: d.cluster, decision: d.kind, subject: d.subject, ...d.data }, `${d.kind} ${d.subject}: ${d.message}`);
    for (const l of this.listeners) l(d);
  }

  recent(limit = 50, cluster?: string): Decision[] {
    const list = cluster ? this.ring.filter((d) => d.cluster === cluster) : this.ring;
    return list.slice(-limit);
  }

  subscribe(listener: DecisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** `  40.0s lab host-health esx-01: healthy -> suspect: ...`, with time relative to `origin`. */
export function formatDecision(d: Decision, origin: number): string {
  const t = `${((d.at - origin) / 1000).toFixed(1)}s`.padStart(8);
  return `${t} ${d.cluster} ${d.kind} ${d.subject}: ${d.message}`;
}
