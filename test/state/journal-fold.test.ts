import { describe, expect, it } from 'vitest';
import type { RestartAction } from '../../src/model/actions.js';
import { compactRecords, foldRecords, type JournalRecord } from '../../src/state/journal.js';

const restart = (vm: string, to: string): RestartAction => ({ type: 'restart', cluster: 'c', vm, vmId: vm, from: 'a', to, toId: to, priority: 'medium', wave: 1, reason: 'test' });

const history: JournalRecord[] = [
  { type: 'intent', id: 'i1', cluster: 'c', action: restart('x', 'b'), at: 1 },
  { type: 'started', id: 'i1', cluster: 'c', task: { id: 't1', op: 'start' }, at: 2 },
  { type: 'outcome', id: 'i1', cluster: 'c', ok: false, message: 'no memory', at: 3 },
  { type: 'intent', id: 'i2', cluster: 'c', action: restart('x', 'd'), at: 4 },
  { type: 'started', id: 'i2', cluster: 'c', task: { id: 't2', op: 'start' }, at: 5 },
  { type: 'intent', id: 'i3', cluster: 'c', action: restart('y', 'b'), at: 6 },
  { type: 'fenced', cluster: 'c', host: 'a', agent: 'redfish', evidence: 'PowerState Off', at: 7 },
  { type: 'fence-confirmed', cluster: 'c', host: 'e', by: 'ops', at: 8 },
  { type: 'freeze', cluster: 'c', reason: 'mass failure', by: 'controller', at: 9 },
  { type: 'freeze', cluster: 'd', reason: 'by hand', by: 'ops', at: 10 },
  { type: 'unfreeze', cluster: 'd', by: 'ops', at: 11 },
  { type: 'host-back', cluster: 'c', host: 'e', at: 12 },
];

describe('journal fold', () => {
  it('keeps open intents with their task, attempts, proofs and freezes', () => {
    const s = foldRecords(history);
    expect([...s.open.keys()]).toEqual(['i2', 'i3']);
    expect(s.open.get('i2')?.task).toEqual({ id: 't2', op: 'start' });
    expect(s.open.get('i3')?.task).toBeUndefined();
    expect(s.attempts.get('c/x')).toEqual({ count: 1, lastAt: 3, lastTarget: 'b', lastError: 'no memory' });
    expect([...s.fenced.keys()]).toEqual(['c/a']);
    expect(s.confirmed.size).toBe(0);
    expect([...s.frozen.keys()]).toEqual(['c']);
    expect(s.lastSeq).toBe(3);
  });

  it('clears attempts when the VM runs again, and when a restart succeeds', () => {
    const s = foldRecords([
      ...history,
      { type: 'outcome', id: 'i2', cluster: 'c', ok: true, at: 20 },
      { type: 'outcome', id: 'i3', cluster: 'c', ok: false, message: 'boom', at: 21 },
      { type: 'attempts-reset', cluster: 'c', vm: 'y', at: 22 },
    ]);
    expect(s.attempts.size).toBe(0);
    expect(s.open.size).toBe(0);
  });

  it('compacts to records that fold back to the same state, ids still counting on', () => {
    const s = foldRecords(history);
    expect(foldRecords(compactRecords(s))).toEqual(s);
    const closed = foldRecords([...history, { type: 'intent', id: 'i9', cluster: 'c', action: restart('z', 'b'), at: 30 }, { type: 'outcome', id: 'i9', cluster: 'c', ok: true, at: 31 }]);
    expect(foldRecords(compactRecords(closed)).lastSeq).toBe(9);
  });
});
