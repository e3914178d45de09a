/** Journal records for the state tests: hand-made ones, and a fast-check generator of whole histories. */
import fc from 'fast-check';
import type { Action, RestartAction } from '../../src/model/actions.js';
import type { JournalRecord } from '../../src/state/journal.js';

export const restart = (vm: string, to: string, cluster = 'c'): RestartAction => ({
  type: 'restart',
  cluster,
  vm,
  vmId: `id-${vm}`,
  from: 'h0',
  to,
  toId: `id-${to}`,
  priority: 'medium',
  wave: 1,
  reason: `host h0 failed; ${to} has room`,
});

export const intent = (n: number, vm = `vm${n}`, at = n): JournalRecord => ({ type: 'intent', id: `i${n}`, cluster: 'c', action: restart(vm, 'h1'), at });

const CLUSTERS = ['c', 'd'];
const HOSTS = ['h0', 'h1', 'h2', 'h3'];
const VMS = ['web-1', 'web-2', 'db-1', 'app', 'vm with spaces', 'ünïcode'];

/** One step of a history; ids are resolved into records by `histories` so intents count up as the executor's do. */
type Step =
  | { k: 'intent'; action: Action; at: number }
  | { k: 'started'; pick: number; at: number }
  | { k: 'outcome'; pick: number; ok: boolean; message?: string; at: number }
  | { k: 'other'; record: JournalRecord };

const at = fc.integer({ min: 0, max: 2_000_000_000_000 });
const cluster = fc.constantFrom(...CLUSTERS);
const host = fc.constantFrom(...HOSTS);
const vm = fc.constantFrom(...VMS);

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ cluster, vm, to: host }).map(({ cluster, vm, to }) => restart(vm, to, cluster)),
  fc.record({ cluster, vm, from: host, to: host, live: fc.boolean() }).map(({ cluster, vm, from, to, live }) => ({ type: 'migrate' as const, cluster, vm, vmId: vm, from, to, toId: to, live, reason: 'evacuate' })),
  fc.record({ cluster, host, enter: fc.boolean() }).map(({ cluster, host, enter }) => ({ type: 'maintenance' as const, cluster, host, hostId: host, enter, reason: 'planned' })),
);

const other: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({ type: fc.constant('attempts-reset' as const), cluster, vm, at }),
  fc.record({ type: fc.constant('fenced' as const), cluster, host, agent: fc.constantFrom('redfish', 'ipmi'), evidence: fc.string({ unit: 'binary' }), at }),
  fc.record({ type: fc.constant('fence-confirmed' as const), cluster, host, by: fc.constantFrom('ops', 'alice'), at }),
  fc.record({ type: fc.constant('host-back' as const), cluster, host, at }),
  fc.record({ type: fc.constant('freeze' as const), cluster: fc.constantFrom(...CLUSTERS, '*'), reason: fc.string({ unit: 'binary' }), by: fc.constantFrom('controller', 'ops'), at }),
  fc.record({ type: fc.constant('unfreeze' as const), cluster: fc.constantFrom(...CLUSTERS, '*'), by: fc.constant('ops'), at }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('intent' as const), action, at }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('started' as const), pick: fc.nat(), at }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('outcome' as const), pick: fc.nat(), ok: fc.boolean(), message: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), at }) },
  { weight: 3, arbitrary: other.map((record) => ({ k: 'other' as const, record })) },
);

/** Random histories as the controller writes them: intents numbered up, then started/outcome for some of them. */
export const histories = (maxLength = 40): fc.Arbitrary<JournalRecord[]> =>
  fc.array(step, { maxLength }).map((steps) => {
    const out: JournalRecord[] = [];
    const ids: { id: string; cluster: string }[] = [];
    for (const s of steps) {
      if (s.k === 'intent') {
        const id = `i${ids.length + 1}`;
        ids.push({ id, cluster: s.action.cluster });
        out.push({ type: 'intent', id, cluster: s.action.cluster, action: s.action, at: s.at });
      } else if (s.k === 'started' || s.k === 'outcome') {
        const target = ids.length ? ids[s.pick % ids.length] : { id: 'i999', cluster: 'c' };
        if (!target) continue;
        if (s.k === 'started') out.push({ type: 'started', id: target.id, cluster: target.cluster, task: { id: `t-${target.id}`, op: 'restart' }, at: s.at });
        else out.push({ type: 'outcome', id: target.id, cluster: target.cluster, ok: s.ok, ...(s.message !== undefined ? { message: s.message } : {}), at: s.at });
      } else out.push(s.record);
    }
    return out;
  });
