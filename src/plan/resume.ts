/** `vigil evacuate --undo HOST`: a host in maintenance returns to service. Its VMs are not moved back; `vigil rebalance` evens out. */
import { ErrorCodes, VigilError } from '../errors.js';
import { hostChanges, PlannedLoads, spreadChange } from './planned-loads.js';
import type { PlannedInput, PlannedWork } from './planned-work.js';

export function planResume(input: PlannedInput, req: { readonly host: string }): PlannedWork {
  const { snapshot } = input;
  const host = snapshot.hosts.find((h) => h.name === req.host);
  if (!host) throw new VigilError(ErrorCodes.UNKNOWN_HOST, `no host "${req.host}" in cluster ${snapshot.cluster}`, { expected: true });
  if (host.state !== 'maintenance') throw new VigilError(ErrorCodes.PLAN_REFUSED, `cannot take ${host.name} out of maintenance: it is not in maintenance (the manager reports it ${host.state})`, { expected: true });
  if (input.capabilities?.maintenanceMode === false) throw new VigilError(ErrorCodes.PLAN_REFUSED, `the ${snapshot.provider} provider cannot change maintenance mode`, { expected: true });
  const loads = new PlannedLoads(input);
  return {
    kind: 'resume',
    cluster: snapshot.cluster,
    at: input.now,
    title: `take ${host.name} out of maintenance`,
    phases: [[{ type: 'maintenance', cluster: snapshot.cluster, host: host.name, hostId: host.id, enter: false, reason: 'requested by an operator: the host returns to service' }]],
    blocked: [],
    notes: [`VMs are not moved back to ${host.name}; 'vigil rebalance' evens out the cluster`],
    hosts: hostChanges(loads, loads, new Map([[host.name, 'resumed' as const]])),
    spread: spreadChange(loads, loads),
  };
}
