/**
 * From a read event to hints: collapse duplicates, find the Vigil
 * cluster(s) and host, hand one hint per target to the service, and at
 * most one per cluster, host and kind per `hintIntervalMs` (a burst of
 * alarms about one host asks for one reconcile, not hundreds). Whatever
 * happens, the sender gets 202: an event we cannot place or do not act on
 * is not the sender's fault.
 */
import { messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Counters } from './counters.js';
import type { HintIntent, HookEvent } from './event.js';
import { ExpiringSet } from './expiring-set.js';
import { oneLine } from './json.js';
import type { ThrottledWarn } from './throttled-warn.js';
import type { HintTarget, HookLimits, HooksDeps, ResolveQuery, WebhookHint } from './types.js';

export interface DispatchReply {
  readonly status: 'accepted' | 'ignored' | 'duplicate' | 'unresolved';
  readonly hints?: readonly HintTarget[];
  readonly coalesced?: number;
  readonly reason?: string;
  readonly warnings?: readonly string[];
}

const MAX_COALESCE_KEYS = 10_000;

export class HintDispatcher {
  private readonly seen: ExpiringSet;
  private readonly lastHint = new Map<string, number>();

  constructor(
    private readonly deps: Pick<HooksDeps, 'resolve' | 'onHint' | 'clock'>,
    private readonly limits: HookLimits,
    private readonly counters: Counters,
    private readonly warn: ThrottledWarn,
    private readonly logger: Logger,
  ) {
    this.seen = new ExpiringSet(limits.duplicateWindowMs, limits.maxRemembered);
  }

  dispatch(ev: HookEvent, clusterParam?: string): DispatchReply {
    const now = this.deps.clock.now();
    if (this.isDuplicate(ev, now)) {
      this.counters.duplicate(ev.source);
      return { status: 'duplicate' };
    }
    if (ev.outcome.act === 'ignore') {
      this.counters.ignored(ev.source, ev.type);
      return { status: 'ignored', reason: ev.outcome.reason };
    }
    const intent = ev.outcome;
    const query: ResolveQuery = {
      source: ev.source,
      ...((intent.cluster ?? clusterParam) ? { cluster: intent.cluster ?? clusterParam } : {}),
      ...(intent.host ? { host: intent.host } : {}),
      ...(intent.platformCluster ? { platformCluster: intent.platformCluster } : {}),
      ...(intent.origin ? { origin: intent.origin } : {}),
    };
    const targets = this.resolve(query);
    if (targets.length === 0) {
      const warning = unresolvedWarning(query);
      this.counters.unresolvedEvent(ev.source);
      this.warn.warn(`webhook: ${warning}`, { source: ev.source, event: ev.type });
      return { status: 'unresolved', warnings: [warning] };
    }
    const warnings: string[] = [];
    const hinted: HintTarget[] = [];
    let coalesced = 0;
    for (const t of targets) {
      if (intent.host && !t.host) {
        const w = `cluster ${quote(t.cluster)} has no host ${quote(intent.host)}; it will look at the whole cluster`;
        warnings.push(w);
        this.warn.warn(`webhook: ${w}`, { source: ev.source, event: ev.type });
      }
      if (this.coalesce(t, intent, now)) {
        coalesced += 1;
        this.counters.coalesce(ev.source, t.cluster);
        continue;
      }
      this.deliver(t, this.hintFor(ev, intent, t, now));
      hinted.push(t);
    }
    return { status: 'accepted', hints: hinted, ...(coalesced ? { coalesced } : {}), ...(warnings.length ? { warnings } : {}) };
  }

  private isDuplicate(ev: HookEvent, now: number): boolean {
    if (ev.dedupeKeys.length === 0) return false;
    const dup = ev.dedupeKeys.some((k) => this.seen.has(k, now));
    // Remember every key, so a second copy that shares only one of them is still caught.
    for (const k of ev.dedupeKeys) this.seen.seenOrAdd(k, now);
    return dup;
  }

  private resolve(q: ResolveQuery): readonly HintTarget[] {
    try {
      return this.deps.resolve(q);
    } catch (e) {
      this.logger.error({ err: messageOf(e), source: q.source }, 'webhook: resolving the cluster failed');
      return [];
    }
  }

  private coalesce(t: HintTarget, intent: HintIntent, now: number): boolean {
    const key = `${t.cluster}\u0000${t.host ?? ''}\u0000${intent.kind}`;
    const last = this.lastHint.get(key);
    if (last !== undefined && now - last < this.limits.hintIntervalMs) return true;
    if (this.lastHint.size >= MAX_COALESCE_KEYS) this.lastHint.clear();
    this.lastHint.set(key, now);
    return false;
  }

  private hintFor(ev: HookEvent, intent: HintIntent, t: HintTarget, now: number): WebhookHint {
    return {
      ...(t.host ? { host: t.host } : {}),
      at: now,
      source: ev.source,
      event: ev.type,
      kind: intent.kind,
      severity: intent.severity,
      message: intent.message,
      ...(intent.eventTime !== undefined ? { eventTime: intent.eventTime } : {}),
    };
  }

  private deliver(t: HintTarget, hint: WebhookHint): void {
    try {
      this.deps.onHint(t.cluster, hint);
      this.counters.hint(hint.source, t.cluster);
    } catch (e) {
      this.counters.hintErrors += 1;
      this.logger.error({ err: messageOf(e), cluster: t.cluster, source: hint.source }, 'webhook: handing the hint to the controller failed');
    }
  }
}

function unresolvedWarning(q: ResolveQuery): string {
  const named = [
    q.cluster ? `cluster ${quote(q.cluster)}` : '',
    q.host ? `host ${quote(q.host)}` : '',
    !q.host && !q.cluster && q.platformCluster ? `platform cluster ${quote(q.platformCluster)}` : '',
  ].filter(Boolean);
  if (named.length === 0) return 'the event names no host or cluster Vigil can place';
  return `no Vigil cluster matches ${named.join(' and ')}`;
}

function quote(s: string): string {
  return `"${oneLine(s, 100)}"`;
}
