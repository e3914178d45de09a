/**
 * Builds a running controller from a loaded config: one provider and one
 * ClusterController per cluster entry, sharing the clock, the decision log,
 * the journal and the policy set. `vigil run`, the demo and the scenario
 * runner all assemble the same way, so what the tests exercise is what runs.
 */
import type { Clock } from '../clock/clock.js';
import type { VigilConfig } from '../config/load.js';
import { DecisionLog } from '../decisions.js';
import { EvidenceDetector } from '../health/evidence-detector.js';
import { HostProber } from '../health/probe.js';
import type { Logger } from '../log.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Provider } from '../provider.js';
import { MemoryJournal, type Journal } from '../state/journal.js';
import { buildAgentSelector } from '../fence/registry.js';
import type { FenceAgentEntry } from '../fence/agent-config.js';
import type { HttpTransport } from '../fence/types.js';
import { ClusterController, type ClusterLeadership } from './cluster-controller.js';
import type { StatusReport } from './status.js';

export interface AssembleOptions {
  readonly config: VigilConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policies: PolicySet;
  readonly decisions?: DecisionLog;
  /** Where intents, proofs and freezes are kept (default: in memory). */
  readonly journal?: Journal;
  readonly purpose?: 'service' | 'oneshot';
  /** HTTP for fence agents (default: real sockets); the scenario runner passes the lab's server in memory. */
  readonly fenceTransport?: HttpTransport;
  /** Told how long each reconcile took (metrics). */
  readonly onPoll?: (cluster: string, provider: string, ms: number, ok: boolean) => void;
  /** Replicated mode (state.etcd): each cluster's election; without it, this process leads every cluster. */
  readonly leadership?: (cluster: string) => ClusterLeadership | undefined;
  /** Replicated mode: the shared state answers; when it does not, the service is not ready. */
  readonly stateReady?: () => boolean;
}

/** The policy set in force; shared by every cluster so a reload reaches all of them at once. */
export interface PolicyRef {
  current: PolicySet;
}

export class Controller {
  constructor(
    readonly clusters: readonly ClusterController[],
    readonly providers: ReadonlyMap<string, Provider>,
    readonly decisions: DecisionLog,
    readonly journal: Journal,
    private readonly clock: Clock,
    private readonly policyRef: PolicyRef,
    private readonly stateReady?: () => boolean,
  ) {}

  get policies(): PolicySet {
    return this.policyRef.current;
  }

  /** Swaps in a new, already validated policy set; the next reconcile of each cluster uses it. */
  setPolicies(p: PolicySet): void {
    this.policyRef.current = p;
  }

  cluster(name: string): ClusterController | undefined {
    return this.clusters.find((c) => c.name === name);
  }

  start(): void {
    for (const c of this.clusters) c.start();
  }

  /** Every cluster has completed at least one poll (and, replicated, etcd answers). */
  ready(): boolean {
    return this.clusters.every((c) => c.polls > 0) && (this.stateReady?.() ?? true);
  }

  async stop(): Promise<void> {
    await Promise.all(this.clusters.map((c) => c.stop()));
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all([...this.providers.values()].map((p) => p.close()));
  }

  async idle(): Promise<void> {
    await Promise.all(this.clusters.map((c) => c.idle()));
  }

  /** Simulates a process death for tests: timers stop, nothing is waited for, nothing more is written. */
  async crash(): Promise<void> {
    await Promise.all(this.clusters.map((c) => c.crash()));
  }

  status(): StatusReport {
    return { generatedAt: new Date(this.clock.now()).toISOString(), source: 'service', clusters: this.clusters.map((c) => c.status()) };
  }
}

export async function assembleController(o: AssembleOptions): Promise<Controller> {
  const decisions = o.decisions ?? new DecisionLog(o.logger);
  const journal = o.journal ?? new MemoryJournal();
  const providers = new Map<string, Provider>();
  const clusters: ClusterController[] = [];
  const policyRef: PolicyRef = { current: o.policies };
  const ctl = o.config.controller;
  // The alerts section's datastoreFree levels are the default; a ClusterPolicy's storage.freeWarning/freeCritical override them per cluster.
  const dsFree = o.config.alerts?.thresholds.datastoreFree;
  // A level turned off there (null) is off here too: -1% free is never reached.
  const freeLevels = dsFree?.enabled ? { warningPercent: dsFree.warning ?? -1, criticalPercent: dsFree.critical ?? -1 } : undefined;
  try {
    for (const { config, module } of o.config.clusters) {
      const logger = o.logger.child({ cluster: config.name });
      const provider = await module.create(config, { clock: o.clock, logger, baseDir: o.config.baseDir, purpose: o.purpose ?? 'service' });
      providers.set(config.name, provider);
      const pollIntervalMs = (config.pollInterval as number | undefined) ?? ctl.pollInterval;
      const d = ctl.detection;
      // By default the polls themselves are the window; jitter may bring two polls closer than the interval.
      const minDownMs = d.minDown ?? Math.floor(pollIntervalMs * (1 - ctl.pollJitter) * Math.max(0, d.failAfterPolls - 1));
      const fencing = config.fencing as { agents: FenceAgentEntry[] } | undefined;
      const leadership = o.leadership?.(config.name);
      clusters.push(
        new ClusterController({
          name: config.name,
          provider,
          clock: o.clock,
          logger,
          decisions,
          policies: () => policyRef.current,
          detector: new EvidenceDetector({
            failAfterPolls: d.failAfterPolls,
            minDownMs,
            hintMinDownMs: Math.min(d.hintMinDown ?? 2_000, minDownMs),
            hintWindowMs: 300_000,
            recoverAfterPolls: d.recoverAfterPolls,
            flapping: { transitions: d.flapping.transitions, windowMs: d.flapping.window, quarantineMs: d.flapping.quarantine },
          }),
          prober: new HostProber(provider, { ...(d.probe.port ? { port: d.probe.port } : {}), timeoutMs: d.probe.timeout }),
          journal,
          mode: (config.mode as 'enforce' | 'observe' | undefined) ?? ctl.mode,
          pollIntervalMs,
          pollJitter: ctl.pollJitter,
          execution: { maxParallel: ctl.execution.maxParallel, taskTimeoutMs: ctl.execution.taskTimeout, taskPollMs: ctl.execution.taskPollInterval, retries: ctl.execution.retries },
          guard: { maxFailures: ctl.guard.maxFailures, windowMs: ctl.guard.window },
          agentsFor: buildAgentSelector(fencing?.agents ?? [], { clock: o.clock, logger, baseDir: o.config.baseDir }, o.fenceTransport),
          hintFollowUpMs: Math.min(d.hintMinDown ?? 2_000, minDownMs),
          ...(ctl.execution.orphanGrace !== undefined ? { orphanGraceMs: ctl.execution.orphanGrace } : {}),
          ...(freeLevels ? { freeLevels } : {}),
          ...(o.onPoll ? { onPoll: (ms: number, ok: boolean) => o.onPoll?.(config.name, provider.kind, ms, ok) } : {}),
          ...(leadership ? { leadership } : {}),
        }),
      );
    }
  } catch (e) {
    await Promise.allSettled([...providers.values()].map((p) => p.close()));
    throw e;
  }
  return new Controller(clusters, providers, decisions, journal, o.clock, policyRef, o.stateReady);
}
