/**
 * Routes each notification to the outboxes of the receivers that take it.
 * Firing notices go by each receiver's filter; a resolved notice goes to the
 * receivers that were told the alert fired (if they want resolved notices),
 * so nobody gets a "resolved" for something they never heard of, and nobody
 * who heard of it misses the end.
 */
import type { Notification } from './alert.js';
import { accepts, type ReceiverFilter } from './filter.js';
import type { Outbox } from './outbox.js';

export interface Route {
  readonly outbox: Outbox;
  readonly filter: ReceiverFilter;
  readonly sendResolved: boolean;
}

export class Dispatcher {
  /** receiver name -> keys of alerts it was sent while they fired. */
  private readonly told = new Map<string, Set<string>>();

  constructor(private readonly routes: readonly Route[]) {
    for (const r of routes) this.told.set(r.outbox.name, new Set());
  }

  dispatch(n: Notification): void {
    for (const r of this.routes) {
      const told = this.told.get(r.outbox.name) as Set<string>;
      if (n.status === 'firing') {
        if (!accepts(r.filter, n.alert)) continue;
        told.add(n.alert.key);
        r.outbox.push(n);
      } else if (told.delete(n.alert.key) && r.sendResolved) {
        r.outbox.push(n);
      }
    }
  }
}
