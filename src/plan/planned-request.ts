/**
 * From what a person asked ("evacuate esx-02") to plans: find the cluster
 * that holds the VM or host, refuse clusters that must not be acted on
 * (frozen, observe mode, led by another replica), and call the planner.
 * Pure, and shared by the CLI acting alone and by the running service, so
 * both make the same plan from the same view.
 */
import { z } from 'zod';
import { didYouMean } from '../config/problems.js';
import { ErrorCodes, VigilError } from '../errors.js';
import type { HostHealth } from '../health/types.js';
import type { Action } from '../model/actions.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import type { PolicySet } from '../policy/policy-set.js';
import { rebalanceRules } from '../policy/rebalance-rules.js';
import type { ProviderCapabilities } from '../provider.js';
import { capacityAfterEvacuation, planEvacuate } from './evacuate.js';
import { planMigrate } from './migrate.js';
import { hostChanges, PlannedLoads, spreadChange } from './planned-loads.js';
import type { PlannedInput, PlannedWork } from './planned-work.js';
import { planRebalance } from './rebalance.js';
import { planResume } from './resume.js';

const name = z.string().min(1).max(256);

export const planRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('migrate'), vm: name, to: name, cluster: name.optional() }),
  z.strictObject({ kind: z.literal('evacuate'), host: name, force: z.boolean().optional(), cluster: name.optional() }),
  z.strictObject({ kind: z.literal('resume'), host: name, cluster: name.optional() }),
  z.strictObject({ kind: z.literal('rebalance'), cluster: name.optional(), threshold: z.number().min(0).max(100).optional(), maxMoves: z.number().int().min(1).max(1000).optional() }),
]);

export type PlanRequest = z.infer<typeof planRequestSchema>;

/** One cluster as the actor (the CLI alone, or the service) sees it now. */
export interface ClusterView {
  readonly name: string;
  readonly provider: string;
  /** Absent when the cluster could not be read (see `error`). */
  readonly snapshot?: ClusterSnapshot;
  readonly error?: string;
  readonly health: ReadonlyMap<string, HostHealth>;
  readonly inflight: readonly Action[];
  /** Why automation is frozen on this cluster, when it is. */
  readonly frozen?: string;
  readonly mode: 'enforce' | 'observe';
  readonly capabilities?: Pick<ProviderCapabilities, 'liveMigration' | 'maintenanceMode' | 'powerOff'>;
  /** Set when this process does not lead the cluster: who does. */
  readonly standby?: string;
}

export function planRequest(req: PlanRequest, views: readonly ClusterView[], policies: PolicySet, now: number): PlannedWork[] {
  if (req.cluster !== undefined && !views.some((v) => v.name === req.cluster)) {
    throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `unknown cluster "${req.cluster}" (known: ${views.map((v) => v.name).join(', ')})`, { expected: true });
  }
  const named = views.filter((v) => req.cluster === undefined || v.name === req.cluster);
  const input = (v: ClusterView): PlannedInput => ({ snapshot: readable(v), health: v.health, policies, inflight: v.inflight, now, ...(v.capabilities ? { capabilities: v.capabilities } : {}) });
  switch (req.kind) {
    case 'migrate': {
      const view = holder(named, 'VM', req.vm, (s) => s.vms.map((x) => x.name));
      gate(view);
      return [planMigrate(input(view), req)];
    }
    case 'evacuate': {
      const view = holder(named, 'host', req.host, (s) => s.hosts.map((x) => x.name));
      gate(view);
      const i = input(view);
      const plan = planEvacuate(i, req);
      const note = capacityAfterEvacuation(i, plan);
      return [note ? { ...plan, notes: [...plan.notes, note] } : plan];
    }
    case 'resume': {
      const view = holder(named, 'host', req.host, (s) => s.hosts.map((x) => x.name));
      gate(view);
      return [planResume(input(view), req)];
    }
    case 'rebalance':
      return named.map((view) => {
        // Asked for by name, a cluster that must not be acted on is an error; among all clusters, it is skipped and says why.
        const why = holdBack(view);
        if (why && req.cluster !== undefined) throw refusal(why);
        if (why) return skipped(view, policies, now, why);
        const rules = rebalanceRules(policies, view.name);
        return planRebalance(input(view), { threshold: req.threshold ?? rules.threshold, maxMoves: req.maxMoves ?? rules.maxMoves });
      });
  }
}

function readable(v: ClusterView): ClusterSnapshot {
  if (!v.snapshot) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `cannot read cluster ${v.name}: ${v.error ?? 'not polled yet'}`, { expected: true, retryable: true });
  return v.snapshot;
}

/** The one cluster that has this VM or host. */
function holder(views: readonly ClusterView[], what: 'VM' | 'host', wanted: string, names: (s: ClusterSnapshot) => string[]): ClusterView {
  const found = views.filter((v) => v.snapshot && names(v.snapshot).includes(wanted));
  if (found.length === 1) return found[0] as ClusterView;
  if (found.length > 1) throw new VigilError(ErrorCodes.PLAN_REFUSED, `${what} "${wanted}" is in clusters ${found.map((v) => v.name).join(', ')}: name one with --cluster`, { expected: true });
  const unread = views.filter((v) => !v.snapshot);
  if (unread.length) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `no ${what} "${wanted}" in the clusters that answered; ${unread.map((v) => `${v.name} could not be read (${v.error ?? 'not polled yet'})`).join('; ')}`, { expected: true, retryable: true });
  const hint = didYouMean(wanted, views.flatMap((v) => (v.snapshot ? names(v.snapshot) : [])));
  throw new VigilError(what === 'VM' ? ErrorCodes.UNKNOWN_VM : ErrorCodes.UNKNOWN_HOST, `unknown ${what} "${wanted}"${hint ? ` (did you mean "${hint}"?)` : ''}`, { expected: true });
}

function holdBack(v: ClusterView): string | undefined {
  if (v.standby !== undefined) return `this replica does not lead cluster ${v.name}${v.standby ? ` (the leader is ${v.standby})` : ''}; ask the leader`;
  if (v.frozen !== undefined) return `cluster ${v.name} is frozen (${v.frozen}); planned work waits until 'vigil unfreeze --cluster ${v.name}'`;
  if (v.mode === 'observe') return `cluster ${v.name} is in observe mode: Vigil takes no action on it`;
  return undefined;
}

function gate(v: ClusterView): void {
  const why = holdBack(v);
  if (why) throw refusal(why);
}

function refusal(why: string): VigilError {
  return new VigilError(ErrorCodes.PLAN_REFUSED, why, { expected: true });
}

function skipped(view: ClusterView, policies: PolicySet, now: number, why: string): PlannedWork {
  const loads = view.snapshot ? new PlannedLoads({ snapshot: view.snapshot, health: view.health, policies, inflight: view.inflight, now }) : undefined;
  return {
    kind: 'rebalance',
    cluster: view.name,
    at: now,
    title: `rebalance ${view.name}: skipped`,
    phases: [],
    blocked: [],
    notes: [why],
    hosts: loads ? hostChanges(loads, loads) : [],
    spread: loads ? spreadChange(loads, loads) : { before: { load: 0, memory: 0, cpu: 0 }, after: { load: 0, memory: 0, cpu: 0 } },
  };
}
