/**
 * Vigil's operations as vSphere calls. Each returns a task reference at once;
 * `task()` follows it.
 *
 *   migrate          RelocateVM_Task to the host and its cluster's root pool
 *                    (a vMotion when the VM runs; vCenter's MigrateVM_Task is
 *                    the older spelling of the same thing)
 *   restart          UnregisterVM + RegisterVM_Task of the VM's .vmx on the
 *                    chosen host + PowerOnVM_Task, as one Vigil task
 *   setMaintenance   EnterMaintenanceMode_Task / ExitMaintenanceMode_Task
 *   powerOff         PowerOffVM_Task
 *
 * VMs are found by instance UUID at call time (FindByUuid), because a VM's
 * moid changes when it is registered again. A restart is safe to repeat: a
 * VM already registered on the target is only powered on (or left alone when
 * it runs), never registered twice.
 */
import type { Clock } from '../../src/clock/clock.js';
import { ErrorCodes, VigilError, type ErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { HostRef, TaskRef, TaskState, VmRef } from '../../src/provider.js';
import type { InventoryCollector } from './collector.js';
import { translate } from './errors.js';
import { filterSpec, objectSpec, retrieveAll, traversal } from './props.js';
import type { Session } from './session.js';
import { SoapFault } from './soap.js';
import { followTask, readTask, taskState } from './tasks.js';
import { child, el, moRef, refEl, text, type MoRef, type XNode } from './xml.js';

interface HostTarget {
  readonly host: MoRef;
  readonly name: string;
  readonly pool: MoRef;
}

interface VmFacts {
  readonly ref: MoRef;
  readonly name: string;
  readonly host?: MoRef;
  readonly power?: string;
  readonly path?: string;
  readonly folder?: MoRef;
}

interface RestartRun {
  state: TaskState;
}

export interface OperationsOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the provider polls the vSphere tasks inside a restart. */
  readonly taskPollMs: number;
}

const RESTART_PREFIX = 'vigil-restart:';

export class VsphereOperations {
  private readonly restarts = new Map<string, RestartRun>();
  /** Objects each native task changes, re-read into the inventory once it succeeded. */
  private readonly effects = new Map<string, MoRef[]>();
  /** VMs a restart unregistered and has not registered again yet, by instance UUID. */
  private readonly unregistered = new Map<string, { path: string; name: string; folder: MoRef }>();
  private seq = 0;

  constructor(
    private readonly session: Session,
    private readonly collector: InventoryCollector,
    private readonly o: OperationsOptions,
  ) {}

  async migrate(vm: VmRef, to: HostRef): Promise<TaskRef> {
    const what = `migrate ${vm.name} to ${to.name}`;
    return this.guard(what, async () => {
      const ref = await this.findVm(vm);
      if (!ref) throw unknownVm(vm, what);
      const target = await this.hostTarget(to, what);
      // RelocateVirtualMachineSpec is a sequence: pool comes before host.
      const res = await this.session.call('RelocateVM_Task', ref, `<spec>${refEl('pool', target.pool)}${refEl('host', target.host)}</spec>${el('priority', 'defaultPriority')}`);
      return this.nativeTask(res.body, 'migrate', [ref, target.host]);
    });
  }

  async setMaintenance(host: HostRef, on: boolean): Promise<TaskRef> {
    const what = `${on ? 'enter' : 'exit'} maintenance on ${host.name}`;
    return this.guard(
      what,
      async () => {
        const ref: MoRef = { type: 'HostSystem', value: host.id };
        const res = on
          ? await this.session.call('EnterMaintenanceMode_Task', ref, `${el('timeout', 0)}${el('evacuatePoweredOffVms', false)}`)
          : await this.session.call('ExitMaintenanceMode_Task', ref, el('timeout', 0));
        return this.nativeTask(res.body, 'maintenance', [ref]);
      },
      ErrorCodes.UNKNOWN_HOST,
    );
  }

  async powerOff(vm: VmRef): Promise<TaskRef> {
    const what = `power off ${vm.name}`;
    return this.guard(what, async () => {
      const ref = await this.findVm(vm);
      if (!ref) throw unknownVm(vm, what);
      const res = await this.session.call('PowerOffVM_Task', ref, '');
      return this.nativeTask(res.body, 'powerOff', [ref]);
    });
  }

  async restart(vm: VmRef, on: HostRef): Promise<TaskRef> {
    const what = `restart ${vm.name} on ${on.name}`;
    return this.guard(what, async () => {
      const target = await this.hostTarget(on, what);
      const ref = await this.findVm(vm);
      const facts = ref ? await this.vmFacts(ref) : undefined;
      const id = `${RESTART_PREFIX}${vm.id}:${on.id}:${++this.seq}`;
      const run: RestartRun = { state: { state: 'running' } };
      if (facts && facts.host?.value === target.host.value) {
        // A run before this one (perhaps by a controller that crashed) already registered it here.
        if (facts.power === 'poweredOn') run.state = { state: 'success' };
        else this.track(id, run, this.powerOnStep(facts.ref, what));
      } else {
        const left = this.unregistered.get(vm.id);
        const known = facts?.path ? { path: facts.path, name: facts.name } : (left ?? this.collector.cache.vmPathById(vm.id));
        if (!known) throw unknownVm(vm, what);
        const scope = await this.collector.resolveScope();
        const folder = facts?.folder ?? left?.folder ?? scope.vmFolder;
        this.track(id, run, this.restartSteps(vm.id, facts, known, folder, target, what));
      }
      this.restarts.set(id, run);
      return { id, op: 'restart' };
    });
  }

  async task(ref: TaskRef): Promise<TaskState> {
    if (ref.id.startsWith(RESTART_PREFIX)) return this.restartState(ref);
    const task: MoRef = { type: 'Task', value: ref.id };
    try {
      const info = await readTask(this.session, task);
      if (info.state === 'success') {
        for (const r of this.effects.get(ref.id) ?? []) this.collector.touch(r);
        this.effects.delete(ref.id);
      }
      return taskState(info, ref.op);
    } catch (e) {
      throw translate(e, `task ${ref.id}`, { notFound: ErrorCodes.UNKNOWN_TASK });
    }
  }

  private track(id: string, run: RestartRun, steps: Promise<void>): void {
    steps.then(
      () => {
        run.state = { state: 'success' };
      },
      (e: unknown) => {
        const err = e instanceof StepFailed ? e : translate(e, 'restart');
        run.state = err instanceof StepFailed ? err.state : { state: 'error', message: err.message, code: err.code, retryable: err.retryable };
        this.o.logger.debug({ task: id, message: run.state.state === 'error' ? run.state.message : '' }, 'vSphere restart failed');
      },
    );
  }

  private async restartSteps(id: string, facts: VmFacts | undefined, known: { path: string; name: string }, folder: MoRef, target: HostTarget, what: string): Promise<void> {
    if (facts) {
      // vCenter lets go of a VM whose host it lost; its files stay on the shared datastore.
      await this.session.call('UnregisterVM', facts.ref, '').catch((e: unknown) => {
        throw new StepFailed(stepError(translate(e, `${what}: unregister`)));
      });
      this.collector.forget(facts.ref);
      // Until it is registered again, only this provider knows where the VM is: a later restart picks it up here.
      this.unregistered.set(id, { ...known, folder });
    }
    const stranded = `${known.name} is not registered in vCenter now (its files: ${known.path}); calling restart again registers it, or register it by hand`;
    let info;
    try {
      const reg = await this.session.call('RegisterVM_Task', folder, `${el('path', known.path)}${el('name', known.name)}${el('asTemplate', false)}${refEl('pool', target.pool)}${refEl('host', target.host)}`);
      const regTask = moRef(child(reg.body, 'returnval'));
      if (!regTask) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: RegisterVM_Task answered without a task`, { retryable: true });
      info = await followTask(this.session, regTask, this.o.clock, this.o.taskPollMs);
    } catch (e) {
      const err = stepError(translate(e, `${what}: register`));
      throw new StepFailed(err.state === 'error' ? { ...err, message: `${err.message}; ${stranded}` } : err);
    }
    if (info.state === 'error') {
      const err = taskState(info, `${what}: register`);
      throw new StepFailed(err.state === 'error' ? { ...err, message: `${err.message}; ${stranded}` } : err);
    }
    this.unregistered.delete(id);
    const newRef = info.result;
    if (!newRef) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: RegisterVM_Task did not say which VM it registered`, { retryable: true });
    this.collector.touch(newRef);
    await this.powerOnStep(newRef, what);
  }

  private async powerOnStep(ref: MoRef, what: string): Promise<void> {
    const res = await this.session.call('PowerOnVM_Task', ref, '');
    const task = moRef(child(res.body, 'returnval'));
    if (!task) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: PowerOnVM_Task answered without a task`, { retryable: true });
    const info = await followTask(this.session, task, this.o.clock, this.o.taskPollMs);
    this.collector.touch(ref);
    if (info.state === 'error') throw new StepFailed(taskState(info, `${what}: power on`));
  }

  private async restartState(ref: TaskRef): Promise<TaskState> {
    const run = this.restarts.get(ref.id);
    if (run) return run.state;
    // Started by an earlier run of this provider: judge by where the VM is now.
    const [uuid, hostId] = ref.id.slice(RESTART_PREFIX.length).split(':');
    const vm = uuid ? await this.guard('restart', () => this.findVm({ id: uuid, name: uuid })) : undefined;
    const facts = vm ? await this.guard('restart', () => this.vmFacts(vm)) : undefined;
    if (facts && facts.host?.value === hostId && facts.power === 'poweredOn') return { state: 'success' };
    return { state: 'error', message: `restart task ${ref.id} was started before this provider was; the VM is ${facts ? `${facts.power ?? 'in an unknown state'} on ${facts.host?.value ?? 'no host'}` : 'not registered'}`, code: ErrorCodes.UNKNOWN_TASK, retryable: false };
  }

  private nativeTask(body: XNode, op: string, effects: MoRef[]): TaskRef {
    const task = moRef(child(body, 'returnval'));
    if (!task) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${op}: vCenter answered without a task`, { retryable: true });
    this.effects.set(task.value, effects);
    return { id: task.value, op };
  }

  /** The VM with this instance UUID, now. */
  private async findVm(vm: VmRef): Promise<MoRef | undefined> {
    const sc = await this.session.serviceContent();
    const scope = await this.collector.resolveScope();
    const res = await this.session.call('FindByUuid', sc.searchIndex, `${refEl('datacenter', scope.datacenter)}${el('uuid', vm.id)}${el('vmSearch', true)}${el('instanceUuid', true)}`);
    return moRef(child(res.body, 'returnval'));
  }

  private async vmFacts(ref: MoRef): Promise<VmFacts> {
    const sc = await this.session.serviceContent();
    const { objects } = await retrieveAll(this.session, sc.propertyCollector, filterSpec({ VirtualMachine: ['name', 'runtime.host', 'runtime.powerState', 'summary.config.vmPathName', 'parent'] }, objectSpec(ref, false)), 10);
    const p = objects[0]?.props;
    const host = moRef(p?.get('runtime.host'));
    const folder = moRef(p?.get('parent'));
    const power = text(p?.get('runtime.powerState'));
    const path = text(p?.get('summary.config.vmPathName'));
    return { ref, name: text(p?.get('name')) ?? ref.value, ...(host ? { host } : {}), ...(power ? { power } : {}), ...(path ? { path } : {}), ...(folder?.type === 'Folder' ? { folder } : {}) };
  }

  /** The host and the root resource pool of its cluster (or standalone compute resource). */
  private async hostTarget(to: HostRef, what: string): Promise<HostTarget> {
    const sc = await this.session.serviceContent();
    const host: MoRef = { type: 'HostSystem', value: to.id };
    let objects;
    try {
      ({ objects } = await retrieveAll(
        this.session,
        sc.propertyCollector,
        filterSpec({ HostSystem: ['name', 'parent'], ClusterComputeResource: ['resourcePool'], ComputeResource: ['resourcePool'] }, objectSpec(host, false, traversal('parent', 'HostSystem', 'parent'))),
        10,
      ));
    } catch (e) {
      if (e instanceof SoapFault && e.faultType === 'ManagedObjectNotFound') throw new VigilError(ErrorCodes.UNKNOWN_HOST, `${what}: vCenter has no host ${to.name} (${to.id})`, { expected: true });
      throw e;
    }
    const h = objects.find((o) => o.obj.type === 'HostSystem' && o.obj.value === to.id);
    const parent = moRef(h?.props.get('parent'));
    const pool = moRef(objects.find((o) => o.obj.value === parent?.value)?.props.get('resourcePool'));
    if (!h || !pool) throw new VigilError(ErrorCodes.UNKNOWN_HOST, `${what}: cannot find the resource pool of host ${to.name} (${to.id})`, { expected: true });
    return { host, name: text(h.props.get('name')) ?? to.name, pool };
  }

  private async guard<T>(what: string, fn: () => Promise<T>, notFound: ErrorCode = ErrorCodes.UNKNOWN_VM): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw translate(e, what, { notFound });
    }
  }
}

class StepFailed extends Error {
  constructor(readonly state: TaskState) {
    super(state.state === 'error' ? state.message : 'step failed');
  }
}

function stepError(e: VigilError): TaskState {
  return { state: 'error', message: e.message, code: (e.details.fault as string | undefined) ?? e.code, retryable: e.retryable };
}

function unknownVm(vm: VmRef, what: string): VigilError {
  return new VigilError(ErrorCodes.UNKNOWN_VM, `${what}: vCenter has no VM with instance UUID ${vm.id}`, { expected: true });
}
