/**
 * Planned work carried out by the CLI itself, when no controller runs for
 * this config: it takes the state directory's lock (the one `vigil run`
 * takes, so a controller cannot start meanwhile), reads open intents and
 * freezes from the journal, and runs the plan through its own executor,
 * which journals every action as the controller's does.
 */
import { resolve } from 'node:path';
import { SystemClock } from '../../clock/clock.js';
import type { VigilConfig } from '../../config/load.js';
import { DecisionLog } from '../../decisions.js';
import { ErrorCodes, isVigilError, messageOf, VigilError } from '../../errors.js';
import { Executor } from '../../execute/executor.js';
import { PlanRunner, type PlanEvent } from '../../execute/plan-runner.js';
import type { HostHealth, HostHealthState } from '../../health/types.js';
import type { Action } from '../../model/actions.js';
import type { ClusterSnapshot } from '../../model/inventory.js';
import { planChanged, stillNeeded, tookEffect } from '../../plan/plan-check.js';
import type { PlannedWork } from '../../plan/planned-work.js';
import { planRequest, type ClusterView, type PlanRequest } from '../../plan/planned-request.js';
import type { PolicySet } from '../../policy/policy-set.js';
import { loadConfigPolicies } from '../../policy/resolve.js';
import type { Provider } from '../../provider.js';
import { healthFromManager } from '../../service/status.js';
import { SimProvider } from '../../../providers/sim/index.js';
import { openState, type OpenedState } from '../../state/open-state.js';
import { cliLogger, toCliExit, type GlobalOptions } from '../common.js';
import { CliExit, Exit } from '../exit.js';
import { serviceUrl } from '../service-client.js';
import type { PlannedActor, RunHandle } from './actor.js';

export class DirectActor implements PlannedActor {
  readonly via: string;
  private readonly clock = new SystemClock();
  private readonly providers = new Map<string, Provider>();

  private constructor(
    private readonly config: VigilConfig,
    private readonly g: GlobalOptions,
    private readonly state: OpenedState,
    private readonly policies: PolicySet,
    stateDir: string,
  ) {
    this.via = `this command (no controller answers at ${serviceUrl(config)}; holding the lock on ${stateDir})`;
  }

  static open(config: VigilConfig, g: GlobalOptions): DirectActor {
    let policies: PolicySet;
    try {
      policies = loadConfigPolicies(config);
    } catch (e) {
      throw toCliExit(e);
    }
    const stateDir = resolve(config.baseDir, config.controller.stateDir);
    let state: OpenedState;
    try {
      state = openState(stateDir);
    } catch (e) {
      if (isVigilError(e) && e.code === ErrorCodes.STATE_LOCKED) {
        throw new CliExit(Exit.FAILURE, `error: no controller answers at ${serviceUrl(config)}, and another Vigil holds ${stateDir}, so this command cannot act: ${e.message}`);
      }
      throw new CliExit(Exit.FAILURE, `error: ${messageOf(e)}`);
    }
    return new DirectActor(config, g, state, policies, stateDir);
  }

  async plan(req: PlanRequest): Promise<PlannedWork[]> {
    const plans = planRequest(req, await this.views(req.cluster), this.policies, this.clock.now());
    // A lab inside this very process (provider: sim with inventory:) lives only as long as the command.
    return plans.map((p) => {
      const provider = this.providers.get(p.cluster);
      if (!(provider instanceof SimProvider) || !provider.lab) return p;
      return { ...p, notes: [...p.notes, `cluster ${p.cluster} is a lab inside this command, which ends with it: nothing done here lasts. Run 'vigil run' (or 'vigil lab serve') to keep a lab running, then this command again`] };
    });
  }

  async run(req: PlanRequest, agreed: PlannedWork, maxParallel: number, onEvent: (e: PlanEvent) => void): Promise<RunHandle> {
    const [now] = await this.plan({ ...req, cluster: agreed.cluster });
    if (!now) throw new VigilError(ErrorCodes.PLAN_REFUSED, `cluster ${agreed.cluster} gives no plan now`, { expected: true });
    if (now.refused) throw new VigilError(ErrorCodes.PLAN_REFUSED, now.refused, { expected: true });
    const changed = planChanged(agreed, now);
    if (changed) throw new VigilError(ErrorCodes.PLAN_REFUSED, `${changed}; nothing moved. Run the command again to see the new plan`, { expected: true });
    const provider = await this.provider(agreed.cluster);
    const ctl = this.config.controller;
    const decisions = new DecisionLog();
    const executor = new Executor({
      cluster: agreed.cluster,
      provider,
      clock: this.clock,
      journal: this.state.journal,
      decisions,
      maxParallel,
      taskPollMs: ctl.execution.taskPollInterval,
      taskTimeoutMs: ctl.execution.taskTimeout,
      retries: ctl.execution.retries,
      retryBaseMs: 1_000,
      verify: (actions) => verifyFresh(provider, actions),
    });
    const runner = new PlanRunner({ plan: now, tag: `cli-${process.pid}-${this.clock.now().toString(36)}`, submit: (a, tag) => executor.submit(a, tag), decisions, clock: this.clock, maxParallel });
    runner.onEvent(onEvent);
    return {
      stop: () => {
        runner.stop();
        return Promise.resolve();
      },
      done: runner.run(),
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.providers.values()].map((p) => p.close()));
    this.state.close();
  }

  private settlePlanned(cluster: string, provider: Provider, snapshot: ClusterSnapshot): Promise<void> {
    return settleOpen(this.state.journal, cluster, provider, snapshot, this.clock.now());
  }

  private async provider(cluster: string): Promise<Provider> {
    const have = this.providers.get(cluster);
    if (have) return have;
    const entry = this.config.clusters.find((c) => c.config.name === cluster);
    if (!entry) throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `unknown cluster "${cluster}"`, { expected: true });
    const p = await entry.module.create(entry.config, { clock: this.clock, logger: cliLogger(this.g), baseDir: this.config.baseDir, purpose: 'oneshot' });
    this.providers.set(cluster, p);
    return p;
  }

  private async views(only: string | undefined): Promise<ClusterView[]> {
    const known = this.config.clusters.map((c) => c.config.name);
    const names = only !== undefined && known.includes(only) ? [only] : known;
    return Promise.all(
      names.map(async (name): Promise<ClusterView> => {
        const entry = this.config.clusters.find((c) => c.config.name === name);
        const journal = this.state.journal.state();
        const frozen = journal.frozen.get(name) ?? journal.frozen.get('*');
        const mode: ClusterView['mode'] = ((entry?.config.mode as string | undefined) ?? this.config.controller.mode) === 'observe' ? 'observe' : 'enforce';
        const open = () => [...this.state.journal.state().open.values()].filter((o) => o.intent.cluster === name).map((o) => o.intent.action);
        const base = { name, provider: entry?.config.provider ?? 'unknown', mode, ...(frozen ? { frozen: `${frozen.reason} (by ${frozen.by})` } : {}) };
        try {
          const provider = await this.provider(name);
          const snapshot = await provider.snapshot();
          await this.settlePlanned(name, provider, snapshot);
          const inflight: Action[] = open();
          // No detector runs here: each host's health is the manager's word (a host it cannot see is not healthy).
          const health = new Map<string, HostHealth>(snapshot.hosts.map((h) => [h.name, { host: h.name, state: healthFromManager(h.state) as HostHealthState, since: snapshot.takenAt, reason: `the manager reports it ${h.state}` }]));
          return { ...base, inflight, snapshot, health, capabilities: provider.capabilities };
        } catch (e) {
          return { ...base, inflight: open(), health: new Map(), error: messageOf(e) };
        }
      }),
    );
  }
}

/**
 * Planned-work actions an earlier command left open (it was killed while
 * they ran): closed from what the platform says of their task, or from the
 * cluster itself, so their VMs are not held as busy for ever. Restarts are
 * left to the controller, which settles them on its next start.
 */
async function settleOpen(journal: OpenedState['journal'], cluster: string, provider: Provider, snapshot: ClusterSnapshot, now: number): Promise<void> {
  for (const [id, open] of journal.state().open) {
    const a = open.intent.action;
    if (open.intent.cluster !== cluster || a.type === 'restart') continue;
    let ok: boolean | undefined;
    let message = '';
    if (open.task) {
      const st = await provider.task(open.task).catch(() => undefined);
      if (st?.state === 'success' || st?.state === 'error') {
        ok = st.state === 'success';
        message = `its task ${open.task.id} ${st.state === 'success' ? 'succeeded' : `failed: ${st.message}`} (settled by a later command)`;
      }
    }
    if (ok === undefined && !tookEffect(a, snapshot)) continue;
    if (ok === undefined) {
      ok = true;
      message = 'it took effect (settled by a later command)';
    }
    await journal.append({ type: 'outcome', id, cluster, ok, message, at: now });
  }
}

/** The executor's last look before each action: drop what the cluster no longer needs. */
async function verifyFresh(provider: Provider, actions: readonly Action[]): Promise<{ keep: Action[]; drop: { action: Action; reason: string }[] }> {
  let snapshot;
  try {
    snapshot = await provider.snapshot();
  } catch (e) {
    return { keep: [], drop: actions.map((action) => ({ action, reason: `cannot re-read the cluster before acting: ${messageOf(e)}` })) };
  }
  const keep: Action[] = [];
  const drop: { action: Action; reason: string }[] = [];
  for (const a of actions) {
    const why = stillNeeded(a, snapshot);
    if (why) drop.push({ action: a, reason: why });
    else keep.push(a);
  }
  return { keep, drop };
}
