import { describe, expect, it } from 'vitest';
import { PollCountDetector } from '../../src/health/poll-count-detector.js';
import type { HostState } from '../../src/model/inventory.js';
import { host, snapshot } from '../helpers/build.js';

function observe(d: PollCountDetector, states: Record<string, HostState>, now: number) {
  const hosts = Object.entries(states).map(([name, state]) => host(name, { state }));
  return d.observe({ now, snapshot: snapshot(hosts, []) });
}

describe('PollCountDetector', () => {
  it('declares a host failed only after N consecutive polls not responding', () => {
    const d = new PollCountDetector({ failAfterPolls: 3 });
    observe(d, { a: 'connected' }, 0);
    expect(observe(d, { a: 'notResponding' }, 10).hosts.get('a')?.state).toBe('suspect');
    expect(observe(d, { a: 'notResponding' }, 20).hosts.get('a')?.state).toBe('suspect');
    const view = observe(d, { a: 'notResponding' }, 30);
    expect(view.hosts.get('a')).toMatchObject({ state: 'failed', since: 30 });
    expect(view.transitions).toEqual([{ host: 'a', from: 'suspect', to: 'failed', at: 30, reason: 'not responding on 3 consecutive polls' }]);
  });

  it('resets the count when the host answers in between', () => {
    const d = new PollCountDetector({ failAfterPolls: 2 });
    observe(d, { a: 'notResponding' }, 0);
    observe(d, { a: 'connected' }, 10);
    expect(observe(d, { a: 'notResponding' }, 20).hosts.get('a')?.state).toBe('suspect');
  });

  it('keeps a failed host failed while it stays down, and heals it when it answers', () => {
    const d = new PollCountDetector({ failAfterPolls: 1 });
    observe(d, { a: 'notResponding' }, 0);
    const still = observe(d, { a: 'notResponding' }, 10);
    expect(still.hosts.get('a')?.state).toBe('failed');
    expect(still.transitions).toEqual([]);
    const back = observe(d, { a: 'connected' }, 20);
    expect(back.transitions[0]).toMatchObject({ from: 'failed', to: 'healthy', reason: 'responding again' });
  });

  it('does not count a host disconnected by a person, or in maintenance, as failing', () => {
    const d = new PollCountDetector({ failAfterPolls: 1 });
    const view = observe(d, { a: 'disconnected', b: 'maintenance' }, 0);
    expect(view.hosts.get('a')?.state).toBe('isolated');
    expect(view.hosts.get('b')?.state).toBe('maintenance');
  });

  it('forgets hosts that left the inventory', () => {
    const d = new PollCountDetector({ failAfterPolls: 1 });
    observe(d, { a: 'connected', b: 'connected' }, 0);
    expect([...observe(d, { a: 'connected' }, 10).hosts.keys()]).toEqual(['a']);
  });
});
