/**
 * `vigil evacuate HOST`: live-migrate every running VM off a host, then put
 * it into maintenance, where placement no longer uses it. Each VM is placed
 * as a planned placement (never on a dedicated failover host), the hardest
 * first (most memory, then most vCPUs), with the restart planner's
 * strategies: spread first, packing when spreading leaves a VM without a
 * host; the strategy that moves the most VMs wins.
 *
 * A VM that cannot move is listed with the reason, and then nothing moves
 * unless `force` says to power such VMs off. Powered-off and suspended VMs
 * stay registered on the host (a host in maintenance may keep them).
 */
import { ErrorCodes, VigilError } from '../errors.js';
import type { Action, MaintenanceAction, MigrateAction, PowerOffAction } from '../model/actions.js';
import type { Vm } from '../model/inventory.js';
import { formatGiB } from '../model/units.js';
import { capacityReport } from './capacity.js';
import { placeVm, STRATEGIES } from './placement/engine.js';
import { hostChanges, PlannedLoads, spreadChange } from './planned-loads.js';
import { compareNames, migrationsPhrase, plural, type Blocked, type PlannedInput, type PlannedWork } from './planned-work.js';

export interface EvacuateRequest {
  readonly host: string;
  /** Power off the VMs that cannot move, so the host can still enter maintenance. */
  readonly force?: boolean;
}

interface Trial {
  readonly after: PlannedLoads;
  readonly moves: MigrateAction[];
  readonly blocked: Blocked[];
}

export function planEvacuate(input: PlannedInput, req: EvacuateRequest): PlannedWork {
  const { snapshot, health } = input;
  const cluster = snapshot.cluster;
  const host = snapshot.hosts.find((h) => h.name === req.host);
  if (!host) throw new VigilError(ErrorCodes.UNKNOWN_HOST, `no host "${req.host}" in cluster ${cluster}`, { expected: true });
  const refuse = (why: string): never => {
    throw new VigilError(ErrorCodes.PLAN_REFUSED, `cannot evacuate ${host.name}: ${why}`, { expected: true });
  };
  if (host.state === 'maintenance') refuse(`it is already in maintenance ('vigil evacuate --undo ${host.name}' takes it out)`);
  const state = health.get(host.name)?.state;
  if (host.state !== 'connected' || state === 'failed' || state === 'fenced') {
    refuse(`it is ${state === 'failed' || state === 'fenced' ? state : host.state}; only a working host can be evacuated (the controller restarts the VMs of a failed host)`);
  }
  if (input.capabilities?.maintenanceMode === false) refuse(`the ${snapshot.provider} provider cannot put hosts into maintenance`);

  const busy = new Set(input.inflight.flatMap((a) => (a.type === 'maintenance' ? [] : [a.vm])));
  const onHost = snapshot.vms.filter((v) => v.host === host.name).sort(hardestFirst);
  const stays = onHost.filter((v) => v.power === 'off' || v.power === 'suspended');
  const running = onHost.filter((v) => v.power === 'on' || v.power === 'unknown');

  let best: Trial | undefined;
  for (const strategy of STRATEGIES) {
    const trial = evacuateWith(input, host.name, running, busy, strategy);
    if (!best || trial.moves.length > best.moves.length) best = trial;
    if (best.blocked.length === 0) break;
  }
  const chosen = best as Trial;

  const powerOffs: PowerOffAction[] = [];
  let refused: string | undefined;
  if (chosen.blocked.length) {
    const stuck = chosen.blocked.filter((b) => busy.has(b.vm));
    if (!req.force) {
      refused = `${plural(chosen.blocked.length, 'VM')} cannot move off ${host.name}, so nothing will move: power them off or remove what blocks them, or pass --force to power them off`;
    } else if (stuck.length) {
      refused = `${stuck.map((b) => b.vm).join(', ')} cannot be powered off while an action on it is in progress; try again once it has finished`;
    } else if (input.capabilities?.powerOff === false) {
      refused = `the ${snapshot.provider} provider cannot power off VMs, which --force needs`;
    } else {
      const byName = new Map(onHost.map((v) => [v.name, v]));
      for (const b of chosen.blocked) {
        const vm = byName.get(b.vm) as Vm;
        powerOffs.push({ type: 'poweroff', cluster, vm: vm.name, vmId: vm.id, host: host.name, reason: `cannot move (${b.reason}); powered off because of --force` });
        const load = chosen.after.load(host.name);
        if (load) chosen.after.release(vm, load);
      }
    }
  }

  const maintenance: MaintenanceAction = { type: 'maintenance', cluster, host: host.name, hostId: host.id, enter: true, reason: `evacuation of ${host.name}: no running VM is left on it` };
  const first: Action[] = [...chosen.moves, ...powerOffs];
  const notes: string[] = [];
  if (stays.length) notes.push(`${plural(stays.length, 'VM')} not running stay${stays.length === 1 ? 's' : ''} registered on ${host.name}: ${stays.map((v) => `${v.name} (${v.power})`).join(', ')}`);
  const parts = [chosen.moves.length ? migrationsPhrase(chosen.moves) : '', powerOffs.length ? plural(powerOffs.length, 'power-off') : ''].filter(Boolean);
  const before = new PlannedLoads(input);
  return {
    kind: 'evacuate',
    cluster,
    at: input.now,
    title: `evacuate ${host.name}: ${parts.length ? `${parts.join(', ')}, then ` : ''}enter maintenance`,
    phases: first.length ? [first, [maintenance]] : [[maintenance]],
    blocked: chosen.blocked,
    notes,
    ...(refused ? { refused } : {}),
    hosts: hostChanges(before, chosen.after, new Map([[host.name, 'evacuated' as const]])),
    spread: spreadChange(before, chosen.after, new Set([host.name])),
  };
}

function evacuateWith(input: PlannedInput, source: string, running: readonly Vm[], busy: ReadonlySet<string>, strategy: (typeof STRATEGIES)[number]): Trial {
  const after = new PlannedLoads(input);
  const from = after.load(source);
  const targets = after.loads.filter((l) => l.host.name !== source);
  const moves: MigrateAction[] = [];
  const blocked: Blocked[] = [];
  const live = input.capabilities?.liveMigration !== false;
  for (const vm of running) {
    const block = (reason: string) => blocked.push({ vm: vm.name, host: source, reason });
    if (busy.has(vm.name)) {
      block('an action on it is in progress');
      continue;
    }
    if (vm.power === 'unknown') {
      block('its power state is unknown, so it cannot be live-migrated');
      continue;
    }
    if (!live) {
      block(`the ${input.snapshot.provider} provider cannot live-migrate`);
      continue;
    }
    const result = placeVm({ vm, rules: after.rulesOf(vm) }, targets, after.ctx, strategy);
    if (!result.ok) {
      block(result.reason);
      continue;
    }
    if (from) after.move(vm, from, result.load);
    const to = result.load;
    const name = to.host.name;
    const where = result.eligible === 1 ? `${name} is the only eligible host` : strategy.name === 'balance' ? `${name} is the best of ${result.eligible} eligible hosts` : `${name} by ${strategy.name} packing (spreading left a VM without a host)`;
    moves.push({
      type: 'migrate',
      cluster: input.snapshot.cluster,
      vm: vm.name,
      vmId: vm.id,
      from: source,
      to: to.host.name,
      toId: to.host.id,
      live: true,
      ...(vm.restartMigration ? { byRestart: true as const } : {}),
      reason: `evacuating ${source}; ${where} (${formatGiB(to.memoryCapacityGiB - to.usedMemoryGiB)} memory free after)`,
    });
  }
  return { after, moves, blocked };
}

function hardestFirst(a: Vm, b: Vm): number {
  return b.memoryGiB - a.memoryGiB || b.cpu - a.cpu || compareNames(a.name, b.name);
}

/**
 * What the evacuation leaves of failover capacity: the restart planner run
 * on the cluster as it will be (moved VMs on their targets, the host in
 * maintenance). A note for the person, not a refusal: maintenance is
 * sometimes worth a thinner margin.
 */
export function capacityAfterEvacuation(input: PlannedInput, plan: PlannedWork, budget = 200): string | undefined {
  const evacuated = plan.hosts.find((h) => h.role === 'evacuated')?.host;
  if (!evacuated || plan.refused) return undefined;
  const moved = new Map<string, string>();
  const off = new Set<string>();
  for (const a of plan.phases.flat()) {
    if (a.type === 'migrate') moved.set(a.vm, a.to);
    if (a.type === 'poweroff') off.add(a.vm);
  }
  const snapshot = {
    ...input.snapshot,
    hosts: input.snapshot.hosts.map((h) => (h.name === evacuated ? { ...h, state: 'maintenance' as const } : h)),
    vms: input.snapshot.vms.map((v) => (moved.has(v.name) ? { ...v, host: moved.get(v.name) as string } : off.has(v.name) ? { ...v, power: 'off' as const } : v)),
  };
  const health = new Map(input.health);
  health.set(evacuated, { host: evacuated, state: 'maintenance', since: input.now, reason: 'planned evacuation' });
  const r = capacityReport(snapshot, health, input.policies, { budget, maxFailures: Math.max(1, requiredFailures(input)) });
  const n = `${r.atLeast ? 'at least ' : ''}${plural(r.tolerates, 'host failure')}`;
  return r.tolerates < r.required
    ? `with ${evacuated} in maintenance the cluster tolerates only ${n} (policy wants ${r.required}): a failure during the maintenance may leave VMs down`
    : `with ${evacuated} in maintenance the cluster still tolerates ${n} (policy wants ${r.required})`;
}

function requiredFailures(input: PlannedInput): number {
  return input.policies.clusterRules(input.snapshot.cluster).tolerateHostFailures;
}
