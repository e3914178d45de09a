/**
 * The storage-loss planner: safety rules as properties over random
 * clusters (fast-check), and the response table as cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterSnapshot, Datastore, Host, PowerState, Vm } from '../../src/model/inventory.js';
import type { HostHealth, HostHealthState } from '../../src/health/types.js';
import { planStorageResponse, type StorageLoss, type StorageResponseInput } from '../../src/plan/storage-response.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import type { StorageLossResponse } from '../../src/policy/schema.js';

const NOW = 1_000_000;

interface Case {
  readonly input: StorageResponseInput;
  readonly onLoss: StorageLossResponse;
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    hostCount: fc.integer({ min: 4, max: 8 }),
    hostHealth: fc.array(fc.constantFrom<HostHealthState>('healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'suspect', 'failed', 'maintenance'), { minLength: 8, maxLength: 8 }),
    // Per shared datastore (3): hosts that mount it, lost it, reach it degraded (bit masks over 8 hosts), or lost everywhere.
    // Mostly one host in trouble per datastore, as in life; sometimes many (any mask).
    ds: fc.array(
      fc.record({
        mount: fc.oneof(fc.constant(255), fc.constant(255), fc.integer({ min: 1, max: 255 })),
        lost: fc.oneof({ arbitrary: fc.constantFrom(0, 1, 2, 4), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }),
        degraded: fc.oneof({ arbitrary: fc.constantFrom(0, 0, 8, 16), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }),
        everywhere: fc.constantFrom(false, false, false, false, false, true),
      }),
      { minLength: 3, maxLength: 3 },
    ),
    vms: fc.array(fc.record({ host: fc.nat(), power: fc.constantFrom<PowerState>('on', 'on', 'off', 'off', 'suspended', 'unknown'), mem: fc.integer({ min: 1, max: 64 }), ds: fc.oneof({ arbitrary: fc.constantFrom<number[]>([0], [1], [2]), weight: 3 }, { arbitrary: fc.subarray([0, 1, 2], { minLength: 1 }), weight: 1 }), ranAtLoss: fc.constantFrom(true, true, false), offPolls: fc.constantFrom(0, 1, 2, 3), managed: fc.constantFrom(false, false, false, true) }), { maxLength: 40 }),
    polls: fc.integer({ min: 1, max: 4 }),
    ageMs: fc.constantFrom(0, 10_000, 30_000, 120_000, 120_000),
    onLoss: fc.constantFrom<StorageLossResponse>('alert', 'migrate', 'migrate-and-restart'),
  })
  .map((r) => {
    const hosts: Host[] = Array.from({ length: r.hostCount }, (_, i) => {
      const h = r.hostHealth[i] as HostHealthState;
      return { name: `h${i}`, id: `h${i}`, cpu: 64, memoryGiB: 256, labels: {}, state: h === 'maintenance' ? 'maintenance' : h === 'healthy' ? 'connected' : 'notResponding' };
    });
    const bit = (mask: number, i: number) => ((mask >> i) & 1) === 1;
    const datastores: Datastore[] = r.ds.map((d, k) => {
      const mounted = hosts.filter((_, i) => bit(d.mount, i)).map((h) => h.name);
      return {
        name: `ds${k}`,
        id: `ds${k}`,
        capacityGiB: 1000,
        freeGiB: 500,
        hosts: mounted,
        accessible: !d.everywhere,
        inaccessibleOn: mounted.filter((_, j) => bit(d.lost, j)),
        degradedOn: mounted.filter((_, j) => bit(d.degraded, j)),
      };
    });
    const vms: Vm[] = r.vms.map((v, i) => {
      const host = hosts[v.host % hosts.length] as Host;
      return { name: `vm${i}`, id: `vm${i}`, host: host.name, cpu: 1, memoryGiB: v.mem, power: v.power, datastores: v.ds.map((k) => `ds${k}`), labels: {}, ...(v.managed ? { managedBy: 'platform-ha' } : {}) };
    });
    const losses: StorageLoss[] = [];
    for (const d of datastores) {
      const lostOn = d.accessible ? d.inaccessibleOn : d.hosts;
      for (const h of lostOn) {
        const ran = vms.filter((v, i) => v.host === h && v.datastores.includes(d.name) && (v.power === 'on' || r.vms[i]?.ranAtLoss)).map((v) => v.name);
        losses.push({ datastore: d.name, host: h, since: NOW - r.ageMs, polls: r.polls, runningAtLoss: ran });
      }
    }
    const health = new Map<string, HostHealth>(hosts.map((h, i) => [h.name, { host: h.name, state: r.hostHealth[i] as HostHealthState, since: 0, reason: '' }]));
    const offPolls = new Map(vms.map((v, i) => [v.name, r.vms[i]?.offPolls ?? 0]));
    const snapshot: ClusterSnapshot = { cluster: 'c', provider: 'test', takenAt: NOW, hosts, vms, datastores };
    const policies = new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', storage: { onLoss: r.onLoss } }], []);
    return { input: { snapshot, health, policies, losses, inflight: [], now: NOW, offPolls }, onLoss: r.onLoss };
  });

/** Written apart from the planner: `host` mounts, reaches and is not degraded on every datastore of `vm`, and lost or degrades none of its own. */
function safeTarget(vm: Vm, host: string, snap: ClusterSnapshot): boolean {
  const reaches = vm.datastores.every((name) => {
    const d = snap.datastores.find((x) => x.name === name);
    return !!d && d.accessible && d.hosts.includes(host) && !d.inaccessibleOn.includes(host) && !(d.degradedOn ?? []).includes(host);
  });
  const impaired = snap.datastores.some((d) => d.hosts.includes(host) && (!d.accessible || d.inaccessibleOn.includes(host) || (d.degradedOn ?? []).includes(host)));
  return reaches && !impaired;
}

describe('storage-loss planner: safety properties', () => {
  it('moves only onto hosts that reach all of the VM\'s datastores, none degraded, with no storage trouble of their own', () => {
    fc.assert(
      fc.property(arbCase, ({ input }) => {
        const snap = input.snapshot;
        for (const a of planStorageResponse(input).actions) {
          const vm = snap.vms.find((v) => v.name === a.vm) as Vm;
          expect(safeTarget(vm, a.to, snap), `${a.vm} -> ${a.to}`).toBe(true);
          expect(snap.hosts.find((h) => h.name === a.to)?.state).toBe('connected');
          expect(input.health.get(a.to)?.state).toBe('healthy');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never runs a VM twice: migrates only running VMs, restarts only VMs shown off on 2 polls that ran at the loss, and only when the policy says so', () => {
    const seen = { migrate: 0, restart: 0 };
    fc.assert(
      fc.property(arbCase, ({ input, onLoss }) => {
        const snap = input.snapshot;
        const plan = planStorageResponse(input);
        const names = plan.actions.map((a) => a.vm);
        expect(new Set(names).size).toBe(names.length);
        if (onLoss === 'alert') expect(plan.actions).toEqual([]);
        for (const a of plan.actions) {
          const vm = snap.vms.find((v) => v.name === a.vm) as Vm;
          const loss = input.losses.find((l) => l.host === vm.host && vm.datastores.includes(l.datastore));
          // Evidence: a confirmed loss on a healthy, connected host, of a datastore other hosts still reach.
          expect(loss, a.vm).toBeDefined();
          expect((loss as StorageLoss).polls).toBeGreaterThanOrEqual(2);
          expect(NOW - (loss as StorageLoss).since).toBeGreaterThanOrEqual(30_000);
          expect(input.health.get(vm.host)?.state).toBe('healthy');
          expect(snap.hosts.find((h) => h.name === vm.host)?.state).toBe('connected');
          expect(a.cause).toBe('storage-loss');
          seen[a.type] += 1;
          if (a.type === 'migrate') {
            expect(vm.power).toBe('on');
            expect(a.live).toBe(true);
          } else {
            expect(onLoss).toBe('migrate-and-restart');
            expect(vm.power).toBe('off');
            expect(vm.managedBy).toBeUndefined();
            expect(input.offPolls?.get(vm.name) ?? 0).toBeGreaterThanOrEqual(2);
            expect((loss as StorageLoss).runningAtLoss).toContain(vm.name);
          }
        }
      }),
      { numRuns: 1000, seed: 11 },
    );
    // The property is not vacuous: the random clusters do produce both kinds of action.
    expect(seen.migrate).toBeGreaterThanOrEqual(10);
    expect(seen.restart).toBeGreaterThanOrEqual(1);
  });

  it('a datastore lost everywhere moves none of its VMs', () => {
    fc.assert(
      fc.property(arbCase, ({ input }) => {
        const gone = new Set(input.snapshot.datastores.filter((d) => !d.accessible || (d.hosts.length > 0 && d.hosts.every((h) => d.inaccessibleOn.includes(h)))).map((d) => d.name));
        const byName = new Map(input.snapshot.vms.map((v) => [v.name, v]));
        for (const a of planStorageResponse(input).actions) expect((byName.get(a.vm) as Vm).datastores.some((d) => gone.has(d))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same input, the same plan', () => {
    fc.assert(
      fc.property(arbCase, ({ input }) => {
        expect(planStorageResponse(input)).toEqual(planStorageResponse(input));
      }),
      { numRuns: 100 },
    );
  });
});

describe('storage-loss planner: cases', () => {
  const hosts: Host[] = ['a', 'b', 'c'].map((n) => ({ name: n, id: n, cpu: 32, memoryGiB: 256, labels: {}, state: 'connected' }));
  const health = new Map<string, HostHealth>(hosts.map((h) => [h.name, { host: h.name, state: 'healthy', since: 0, reason: '' }]));
  const input = (over: { lost?: string[]; degraded?: string[]; power?: PowerState; onLoss?: StorageLossResponse; polls?: number; age?: number; off?: number }): StorageResponseInput => {
    const ds: Datastore = { name: 'ds', id: 'ds', capacityGiB: 1, freeGiB: 1, hosts: ['a', 'b', 'c'], accessible: true, inaccessibleOn: over.lost ?? ['a'], degradedOn: over.degraded ?? [] };
    const vm: Vm = { name: 'db', id: 'db', host: 'a', cpu: 2, memoryGiB: 16, power: over.power ?? 'on', datastores: ['ds'], labels: {} };
    return {
      snapshot: { cluster: 'c', provider: 't', takenAt: NOW, hosts, vms: [vm], datastores: [ds] },
      health,
      policies: new PolicySet([{ kind: 'ClusterPolicy', cluster: '*', storage: { onLoss: over.onLoss ?? 'migrate' } }], []),
      losses: (over.lost ?? ['a']).map((h) => ({ datastore: 'ds', host: h, since: NOW - (over.age ?? 60_000), polls: over.polls ?? 3, runningAtLoss: ['db'] })),
      inflight: [],
      now: NOW,
      offPolls: new Map([['db', over.off ?? 0]]),
    };
  };
  const summary = (i: StorageResponseInput) => {
    const p = planStorageResponse(i);
    return { actions: p.actions.map((a) => `${a.type} ${a.vm} ${a.from}->${a.to}`), held: p.held.map((h) => h.reason) };
  };

  it('migrates a running VM to the host that reaches the datastore fully, not the degraded one', () => {
    expect(summary(input({ degraded: ['c'] }))).toEqual({ actions: ['migrate db a->b'], held: [] });
  });
  it('waits for the loss to last actAfter over two polls', () => {
    expect(summary(input({ age: 10_000 })).held).toEqual(['waiting for the loss to last 30s over 2 polls before moving it']);
    expect(summary(input({ polls: 1 })).actions).toEqual([]);
  });
  it('alert only: nothing moves', () => {
    expect(summary(input({ onLoss: 'alert' }))).toEqual({ actions: [], held: ['storage.onLoss is alert: left running on a'] });
  });
  it('a VM that died with the loss restarts only with migrate-and-restart, after two polls off', () => {
    expect(summary(input({ power: 'off', off: 2 })).actions).toEqual([]);
    expect(summary(input({ power: 'off', off: 1, onLoss: 'migrate-and-restart' })).actions).toEqual([]);
    expect(summary(input({ power: 'off', off: 2, onLoss: 'migrate-and-restart' })).actions).toEqual(['restart db a->b']);
    expect(summary(input({ power: 'unknown', off: 5, onLoss: 'migrate-and-restart' })).actions).toEqual([]);
  });
  it('nowhere to go: held with the reason', () => {
    expect(summary(input({ degraded: ['b', 'c'] })).held[0]).toMatch(/no host can take it/);
  });
});
