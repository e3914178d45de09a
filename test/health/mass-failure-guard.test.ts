import { describe, expect, it } from 'vitest';
import { guardLimit, MassFailureGuard } from '../../src/health/mass-failure-guard.js';
import type { HealthTransition, HostHealthState } from '../../src/health/types.js';
import { healthOf } from '../helpers/build.js';

const down = (host: string, at: number, to: HostHealthState = 'suspect'): HealthTransition => ({ host, from: 'healthy', to, at, reason: '' });

describe('MassFailureGuard', () => {
  it('limits by count or share of the cluster, at least two hosts', () => {
    expect(guardLimit({ maxFailures: '40%', windowMs: 1 }, 4)).toBe(2);
    expect(guardLimit({ maxFailures: '40%', windowMs: 1 }, 16)).toBe(6);
    expect(guardLimit({ maxFailures: 3, windowMs: 1 }, 100)).toBe(3);
  });

  it('trips when more hosts than the limit go down within the window', () => {
    const g = new MassFailureGuard({ maxFailures: 2, windowMs: 300_000 });
    const h = healthOf({ a: 'suspect', b: 'failed', c: 'suspect', d: 'healthy' });
    expect(g.observe([down('a', 0), down('b', 10_000)], h, 10_000).trip).toBe(false);
    const r = g.observe([down('c', 20_000)], h, 20_000);
    expect(r).toEqual({ trip: true, hosts: ['a', 'b', 'c'], limit: 2 });
  });

  it('does not count failures outside the window, nor hosts that came back', () => {
    const g = new MassFailureGuard({ maxFailures: 2, windowMs: 60_000 });
    g.observe([down('a', 0), down('b', 0)], healthOf({ a: 'failed', b: 'suspect', c: 'healthy' }), 0);
    const later = g.observe([down('c', 120_000)], healthOf({ a: 'failed', b: 'healthy', c: 'suspect' }), 120_000);
    expect(later.trip).toBe(false);
    expect(later.hosts).toEqual(['c']);
  });

  it('after an unfreeze, counts only failures that start later', () => {
    const g = new MassFailureGuard({ maxFailures: 1, windowMs: 300_000 });
    const h = healthOf({ a: 'failed', b: 'failed', c: 'healthy' });
    expect(g.observe([down('a', 0), down('b', 0)], h, 0).trip).toBe(true);
    g.acknowledge(5_000);
    expect(g.observe([], h, 10_000).trip).toBe(false);
    expect(g.observe([down('c', 20_000)], healthOf({ a: 'failed', b: 'failed', c: 'suspect' }), 20_000).hosts).toEqual(['c']);
  });
});
