/**
 * `vigil migrate VM --to HOST`: one planned migration. The target must pass
 * every placement filter a restart would (host usable, failover hosts,
 * avoided hosts, required labels, datastores, anti-affinity, memory and CPU
 * within their ratios), for a planned placement; otherwise the plan is
 * refused with every reason the target fails.
 *
 * A running VM moves live; a powered-off one moves cold, under the same
 * rules (it will need the room when it starts).
 */
import { didYouMean } from '../config/problems.js';
import { ErrorCodes, VigilError } from '../errors.js';
import type { MigrateAction } from '../model/actions.js';
import { formatGiB } from '../model/units.js';
import { hostChanges, PlannedLoads, spreadChange } from './planned-loads.js';
import type { PlannedInput, PlannedWork } from './planned-work.js';

export interface MigrateRequest {
  readonly vm: string;
  readonly to: string;
}

export function planMigrate(input: PlannedInput, req: MigrateRequest): PlannedWork {
  const { snapshot, health } = input;
  const vm = snapshot.vms.find((v) => v.name === req.vm);
  if (!vm) throw new VigilError(ErrorCodes.UNKNOWN_VM, `no VM "${req.vm}" in cluster ${snapshot.cluster}`, { expected: true });
  const target = snapshot.hosts.find((h) => h.name === req.to);
  if (!target) {
    const hint = didYouMean(req.to, snapshot.hosts.map((h) => h.name));
    throw new VigilError(ErrorCodes.UNKNOWN_HOST, `no host "${req.to}" in cluster ${snapshot.cluster}${hint ? ` (did you mean "${hint}"?)` : ''}`, { expected: true });
  }
  const refuse = (why: string): never => {
    throw new VigilError(ErrorCodes.PLAN_REFUSED, `cannot migrate ${vm.name} to ${target.name}: ${why}`, { expected: true });
  };

  if (vm.host === target.name) refuse('it already runs there');
  const busy = input.inflight.find((a) => a.type !== 'maintenance' && a.vm === vm.name);
  if (busy) refuse(`an action on it is in progress (${busy.type})`);
  if (vm.power !== 'on' && vm.power !== 'off') refuse(`it is ${vm.power}: only a running VM (live) or a powered-off one (cold) can be migrated`);
  const live = vm.power === 'on';
  if (live && input.capabilities?.liveMigration === false) refuse(`the ${snapshot.provider} provider cannot live-migrate`);
  const source = snapshot.hosts.find((h) => h.name === vm.host);
  const sourceHealth = health.get(vm.host)?.state;
  if (!source || (source.state !== 'connected' && source.state !== 'maintenance') || sourceHealth === 'failed' || sourceHealth === 'fenced') {
    refuse(`its host ${vm.host} is ${sourceHealth === 'failed' || sourceHealth === 'fenced' ? sourceHealth : (source?.state ?? 'unknown')}; the controller restarts the VMs of failed hosts, nothing can be migrated off them`);
  }

  const before = new PlannedLoads(input);
  const after = new PlannedLoads(input);
  const to = after.load(target.name);
  const from = after.load(vm.host);
  if (!to || !from) return refuse('the host is not in the snapshot');
  const rules = after.rulesOf(vm);
  const refusals = after.refusals(vm, to);
  if (refusals.length) {
    const peer = rules.antiAffinityGroup && to.groups.has(rules.antiAffinityGroup) ? after.membersOf(to.host.name).find((m) => after.rulesOf(m).antiAffinityGroup === rules.antiAffinityGroup) : undefined;
    refuse(refusals.map((r) => `${target.name} ${r.one}`).join('; ') + (peer ? ` (${peer.name} runs there)` : ''));
  }
  const notes: string[] = [];
  const preferred = Object.entries(rules.preferHostLabels);
  const prefScore = (labels: Readonly<Record<string, string>>) => preferred.filter(([k, v]) => labels[k] === v).length;
  if (preferred.length && prefScore(target.labels) < prefScore(source?.labels ?? {})) {
    notes.push(`${vm.name} prefers hosts labelled ${preferred.map(([k, v]) => `${k}=${v}`).join(', ')} (policy ${rules.policy ?? ''}); ${target.name} carries fewer of them than ${vm.host}`);
  }
  if (rules.affinityGroup && (from.affinity.get(rules.affinityGroup) ?? 0) > 1) {
    notes.push(`${vm.name} leaves the other VMs of its affinity group ${rules.affinityGroup} on ${vm.host}`);
  }
  if (live) after.move(vm, from, to);
  const action: MigrateAction = {
    type: 'migrate',
    cluster: snapshot.cluster,
    vm: vm.name,
    vmId: vm.id,
    from: vm.host,
    to: target.name,
    toId: target.id,
    live,
    ...(live && vm.restartMigration ? { byRestart: true as const } : {}),
    reason: `requested by an operator; ${target.name} passes every placement rule (${formatGiB(to.memoryCapacityGiB - to.usedMemoryGiB)} memory free after)`,
  };
  return {
    kind: 'migrate',
    cluster: snapshot.cluster,
    at: input.now,
    title: `${action.byRestart ? 'restart-migrate (a short outage)' : live ? 'live-migrate' : 'migrate (cold, powered off)'} ${vm.name} from ${vm.host} to ${target.name}`,
    phases: [[action]],
    blocked: [],
    notes,
    hosts: hostChanges(before, after),
    spread: spreadChange(before, after),
  };
}
