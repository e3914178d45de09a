/**
 * A plan is made, shown, agreed to, and only then carried out; the cluster
 * may have changed in between (as `nomad job plan` and `-check-index`).
 * `planChanged` compares the agreed plan with the one Vigil makes right
 * before acting; `stillNeeded` is the executor's last look just before
 * each action.
 */
import type { Action } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { PlannedWork } from './planned-work.js';

/**
 * Whether the plan Vigil would make now is the one a person agreed to:
 * undefined when the actions are the same (same VMs, hosts and order of
 * phases), else the first difference. Plans are deterministic, so an
 * unchanged cluster gives the same plan; a changed one is shown again
 * rather than carried out unseen.
 */
export function planChanged(agreed: { readonly phases: readonly (readonly unknown[])[] }, now: PlannedWork): string | undefined {
  const was = (agreed.phases ?? []).map((p) => (Array.isArray(p) ? p.map(signature) : []));
  const is = now.phases.map((p) => p.map(signature));
  const flatWas = was.flat();
  const flatIs = is.flat();
  const gone = flatWas.filter((s) => !flatIs.includes(s));
  const added = flatIs.filter((s) => !flatWas.includes(s));
  if (gone.length || added.length) {
    const parts = [gone.length ? `no longer: ${gone.slice(0, 3).join(', ')}${gone.length > 3 ? ', ...' : ''}` : '', added.length ? `now also: ${added.slice(0, 3).join(', ')}${added.length > 3 ? ', ...' : ''}` : ''].filter(Boolean);
    return `the cluster changed since the plan was made (${parts.join('; ')})`;
  }
  if (was.length !== is.length || was.some((p, i) => p.length !== is[i]?.length)) return 'the cluster changed since the plan was made (its steps are ordered differently)';
  return undefined;
}

/** One action as a person would name it, for comparing plans. */
function signature(a: unknown): string {
  const x = (a ?? {}) as Partial<Record<string, unknown>>;
  switch (x.type) {
    case 'migrate':
      return `${String(x.live) === 'false' ? 'cold-migrate' : 'migrate'} ${String(x.vm)} ${String(x.from)} -> ${String(x.to)}`;
    case 'poweroff':
      return `power off ${String(x.vm)} on ${String(x.host)}`;
    case 'maintenance':
      return `${x.enter ? 'enter' : 'exit'} maintenance on ${String(x.host)}`;
    default:
      return `${String(x.type)} ${String(x.vm ?? x.host)}`;
  }
}

/** Just before an action runs: undefined when it is still needed, else why not. */
export function stillNeeded(a: Action, snapshot: ClusterSnapshot): string | undefined {
  switch (a.type) {
    case 'migrate': {
      const vm = snapshot.vms.find((v) => v.name === a.vm);
      if (!vm) return `${a.vm} is gone from the inventory`;
      if (vm.host === a.to) return `${a.vm} already runs on ${a.to}`;
      if (vm.host !== a.from) return `${a.vm} is now on ${vm.host}`;
      return undefined;
    }
    case 'poweroff': {
      const vm = snapshot.vms.find((v) => v.name === a.vm);
      if (!vm) return `${a.vm} is gone from the inventory`;
      if (vm.power === 'off') return `${a.vm} is already off`;
      if (vm.host !== a.host) return `${a.vm} is now on ${vm.host}`;
      return undefined;
    }
    case 'maintenance': {
      const host = snapshot.hosts.find((h) => h.name === a.host);
      if (!host) return `host ${a.host} is gone from the inventory`;
      if (a.enter === (host.state === 'maintenance')) return `host ${a.host} is already ${a.enter ? 'in' : 'out of'} maintenance`;
      return undefined;
    }
    case 'restart':
      return undefined;
  }
}

/** True when the cluster shows the action's effect (the VM on its target, off, the host in the asked state). */
export function tookEffect(a: Action, snapshot: ClusterSnapshot): boolean {
  switch (a.type) {
    case 'migrate':
    case 'restart':
      return snapshot.vms.some((v) => v.name === a.vm && v.host === a.to);
    case 'poweroff':
      return snapshot.vms.some((v) => v.name === a.vm && v.power === 'off');
    case 'maintenance':
      return snapshot.hosts.some((h) => h.name === a.host && (h.state === 'maintenance') === a.enter);
  }
}
