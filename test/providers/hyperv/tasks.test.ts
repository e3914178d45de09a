/** How task-status facts become a TaskState: the job's word, the platform's truth, and a job lost with its session. */
import { describe, expect, it } from 'vitest';
import { decide, statusInput, type TaskRecord } from '../../../providers/hyperv/tasks.js';
import { groupPower, vmPower } from '../../../providers/hyperv/snapshot-map.js';

const migrate: TaskRecord = { id: 't1', kind: 'migrate', createdAt: 0, clustered: true, vmId: 'v', group: 'web-01', from: 'hv1', to: 'hv3', job: { node: 'hv1', id: 'j' } };
const standalone: TaskRecord = { id: 't2', kind: 'register-vm', createdAt: 0, clustered: false, vmId: 'v', from: 'hvs1', to: 'hvs2', job: { node: 'hvs2', id: 'j' } };
const drain: TaskRecord = { id: 't3', kind: 'drain', createdAt: 0, clustered: true, node: 'hv1' };
const cold: TaskRecord = { ...migrate, id: 't4', live: false };
const coldStandalone: TaskRecord = { id: 't5', kind: 'migrate', createdAt: 0, clustered: false, vmId: 'v', from: 'hvs1', to: 'hvs2', job: { node: 'hvs1', id: 'j' }, live: false };

describe('hyperv task decisions', () => {
  it.each([
    ['job running', migrate, { job: { found: true, state: 'Running' }, group: { found: true, owner: 'hv1', state: 'Online' } }, { state: 'running' }],
    ['job failed: its reason', migrate, { job: { found: true, state: 'Failed', reason: 'no route' }, group: { found: true, owner: 'hv1', state: 'Online' } }, { state: 'error', message: 'migration of the VM to hv3 failed: no route', retryable: false }],
    ['job done and the VM online on the target', migrate, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv3', state: 'Online' } }, { state: 'success' }],
    ['job done but the VM stayed', migrate, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv1', state: 'Online' } }, { state: 'error', message: 'migration finished but the VM is on hv1', retryable: false }],
    ['job lost, the VM arrived', migrate, { job: { found: false }, group: { found: true, owner: 'hv3', state: 'Online' } }, { state: 'success' }],
    ['job lost, the VM did not move', migrate, { job: { found: false }, group: { found: true, owner: 'hv1', state: 'Online' } }, { state: 'error', message: 'lost track of the migration: its PowerShell session was replaced, and the VM is on hv1', retryable: true }],
    ['live: job done, the VM on the target but off', migrate, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv3', state: 'Offline' } }, { state: 'error', message: 'migration finished but the VM is on hv3 and not running', retryable: false }],
    ['cold: job running', cold, { job: { found: true, state: 'Running' }, group: { found: true, owner: 'hv1', state: 'Offline' } }, { state: 'running' }],
    ['cold: job done, the role (off) on the target', cold, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv3', state: 'Offline' } }, { state: 'success' }],
    ['cold: job lost, the role (off) on the target', cold, { job: { found: false }, group: { found: true, owner: 'hv3', state: 'Offline' } }, { state: 'success' }],
    ['cold: job done but the role stayed', cold, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv1', state: 'Offline' } }, { state: 'error', message: 'migration finished but the VM is on hv1', retryable: false }],
    ['cold: job done, the role Failed on the target', cold, { job: { found: true, state: 'Completed' }, group: { found: true, owner: 'hv3', state: 'Failed' } }, { state: 'error', message: 'the role is Failed on hv3', retryable: false }],
    ['cold standalone: job done, the VM (off) on the target', coldStandalone, { job: { found: true, state: 'Completed' }, vm: { hvs2: { found: true, state: 'Off' }, hvs1: { found: false } } }, { state: 'success' }],
    ['the role is gone', migrate, { job: { found: true, state: 'Running' }, group: { found: false } }, { state: 'error', message: 'the cluster role web-01 is gone', retryable: false }],
    ['standalone: running on the target', standalone, { job: { found: true, state: 'Completed' }, vm: { hvs2: { found: true, state: 'Running' }, hvs1: { found: null, error: 'down' } } }, { state: 'success' }],
    ['standalone: job lost, registered but not yet running', standalone, { job: { found: false }, vm: { hvs2: { found: true, state: 'Off' } } }, { state: 'running' }],
    ['drain in progress', drain, { node: { found: true, state: 'Paused', drainStatus: 'InProgress', roles: ['a'] } }, { state: 'running' }],
    ['drain completed', drain, { node: { found: true, state: 'Paused', drainStatus: 'Completed', roles: [] } }, { state: 'success' }],
    ['drain failed: which roles stayed', drain, { node: { found: true, state: 'Paused', drainStatus: 'Failed', roles: ['db-01'] } }, { state: 'error', message: 'the drain of hv1 failed; roles still on it: db-01', retryable: false }],
    ['node down during the drain', drain, { node: { found: true, state: 'Down', drainStatus: 'InProgress' } }, { state: 'error', message: 'node hv1 went down during the drain', retryable: false }],
  ] as const)('%s', (_what, task, facts, expected) => {
    expect(decide(task, facts as never)).toEqual(expected);
  });

  it('asks for the job, the role or the node, and the VM on both hosts, as each task needs', () => {
    expect(statusInput(migrate, ['hv2'])).toEqual({ seeds: ['hv2'], job: { node: 'hv1', id: 'j' }, group: 'web-01' });
    expect(statusInput(standalone, [])).toEqual({ seeds: [], job: { node: 'hvs2', id: 'j' }, vm: { id: 'v', hosts: ['hvs2', 'hvs1'] } });
    expect(statusInput(drain, ['hv2'])).toEqual({ seeds: ['hv2'], node: 'hv1' });
  });

  it('maps VM and role states without guessing', () => {
    expect(['Running', 'Off', 'Saved', 'Paused', 'Starting', 'RunningCritical', ''].map(vmPower)).toEqual(['on', 'off', 'suspended', 'suspended', 'unknown', 'on', 'unknown']);
    expect(
      [
        { state: 'Online', persistentState: 1 },
        { state: 'Offline', persistentState: 0 },
        { state: 'Failed', persistentState: 1 },
        { state: 'Failed', persistentState: 0 },
        { state: 'Pending', persistentState: 1 },
      ].map(groupPower),
    ).toEqual(['on', 'off', 'on', 'off', 'unknown']);
  });
});
