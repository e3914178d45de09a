/**
 * The vocabulary of the webhook receivers: what a hook turns into (a hint
 * about a host or a cluster), what the receivers need from the service
 * (deps), and what they report back (counters). Nothing here acts: a hint
 * only asks the controller to look again.
 */
import type { Clock } from '../../clock/clock.js';
import type { Logger } from '../../log.js';

export type HookSource = 'vsphere' | 'proxmox' | 'generic';
export const HOOK_SOURCES: readonly HookSource[] = ['vsphere', 'proxmox', 'generic'];

/** What the sender says happened, coarsely; the controller decides what it means. */
export type HintKind =
  | 'host-unreachable' // connection lost, not responding, disconnected, HA host failed or isolated
  | 'fencing' // Proxmox HA is fencing (or has fenced) the node
  | 'host-alarm' // an alarm turned red on a host
  | 'vm-stopped' // a VM stopped without anyone asking
  | 'storage' // a datastore became inaccessible to a host
  | 'replication' // a Proxmox replication job failed
  | 'cluster' // the platform's own HA acted on the cluster (no single host named)
  | 'report'; // anything else a sender reports (generic hooks)

export type HintSeverity = 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'unknown';

/** One alarm about a host (or a whole cluster), as handed to the controller. */
export interface WebhookHint {
  /** Vigil's name for the host; absent when the event names only a cluster. */
  readonly host?: string;
  /** When Vigil received it (clock time, ms). */
  readonly at: number;
  /** Which receiver it came through. */
  readonly source: HookSource;
  /** The platform's event type, e.g. `HostConnectionLostEvent`, `fencing`. */
  readonly event: string;
  readonly kind: HintKind;
  readonly severity: HintSeverity;
  /** One line for people (decision log, status page). */
  readonly message: string;
  /** When the platform says it happened (ms), if it said. */
  readonly eventTime?: number;
}

/** What the receivers know about where an event belongs; the resolver maps it to Vigil clusters. */
export interface ResolveQuery {
  readonly source: HookSource;
  /** A Vigil cluster name: the generic body's `cluster`, or `?cluster=` on any hook URL. */
  readonly cluster?: string;
  /** The host as the platform names it. */
  readonly host?: string;
  /** The platform's own cluster name (vCenter's ComputeResource), when the event carries one. */
  readonly platformCluster?: string;
  /** Who sent it, e.g. a CloudEvent `source` such as `https://vc01/sdk`. */
  readonly origin?: string;
}

/** Where a hint goes: a Vigil cluster, and the host by Vigil's spelling when one was named and found. */
export interface HintTarget {
  readonly cluster: string;
  readonly host?: string;
}

export type Resolve = (q: ResolveQuery) => readonly HintTarget[];

export interface HookAuthSettings {
  /** Bearer tokens accepted (more than one while rotating). */
  readonly tokens?: readonly string[];
  /** HMAC-SHA256 secrets accepted (more than one while rotating). */
  readonly hmacSecrets?: readonly string[];
  /** Refuse signatures made without `X-Vigil-Timestamp`. */
  readonly requireTimestamp?: boolean;
  /** How far a signed timestamp may be from now, either way (ms). Also how long a signature is remembered to refuse replays. */
  readonly replayWindowMs?: number;
  /** Also accept the Bearer token as `?token=` on the URL, for senders that cannot set headers. */
  readonly allowQueryToken?: boolean;
  /** Accept hooks without credentials (labs only; logged as a warning at start). */
  readonly allowUnauthenticated?: boolean;
}

export interface HookLimits {
  /** Largest body accepted; larger ones get 413 without being read further. */
  readonly maxBodyBytes: number;
  /** Token bucket per source address: sustained requests per second... */
  readonly ratePerSecond: number;
  /** ...and how many may come at once. */
  readonly rateBurst: number;
  /** Most source addresses tracked at once (memory bound). */
  readonly maxSources: number;
  /** How long an event id (CloudEvent id, vCenter Key, Proxmox notification) is remembered for collapsing duplicates. */
  readonly duplicateWindowMs: number;
  /** Most event ids remembered (memory bound). */
  readonly maxRemembered: number;
  /** At most one hint per cluster and host per this interval; more are counted as coalesced. */
  readonly hintIntervalMs: number;
}

export const DEFAULT_LIMITS: HookLimits = {
  maxBodyBytes: 1024 * 1024,
  ratePerSecond: 100,
  rateBurst: 500,
  maxSources: 10_000,
  duplicateWindowMs: 10 * 60_000,
  maxRemembered: 100_000,
  hintIntervalMs: 1_000,
};

export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000;

/**
 * Optional observers, so the service can feed Prometheus without this
 * module depending on it. Label values are bounded: event types are
 * sanitised and capped (see `Counters`).
 */
export interface HookMetrics {
  request?(source: HookSource, status: number): void;
  ignored?(source: HookSource, eventType: string): void;
  duplicate?(source: HookSource): void;
  rateLimited?(source: HookSource): void;
  hint?(source: HookSource, cluster: string): void;
  coalesced?(source: HookSource, cluster: string): void;
  unresolved?(source: HookSource): void;
}

export interface HooksDeps {
  readonly auth: HookAuthSettings;
  /** Which Vigil cluster(s), and which host by Vigil's spelling, an event is about. Must not throw (a throw is logged and the hook answered 202). */
  readonly resolve: Resolve;
  /** Records the hint and asks that cluster for a reconcile; must return quickly. */
  readonly onHint: (cluster: string, hint: WebhookHint) => void;
  /** Only `now()` is used. */
  readonly clock: Pick<Clock, 'now'>;
  readonly logger: Logger;
  readonly limits?: Partial<HookLimits>;
  readonly metrics?: HookMetrics;
}

export interface HookStats {
  readonly requests: Record<HookSource, Record<string, number>>;
  readonly hints: number;
  readonly coalesced: number;
  readonly duplicates: number;
  readonly rateLimited: number;
  readonly unresolved: number;
  readonly ignored: Record<string, number>;
  readonly hintErrors: number;
}

export interface HooksHandle {
  stats(): HookStats;
  /** New credentials after a reload; requests in flight finish under the old ones. */
  setAuth(settings: HookAuthSettings): void;
}
