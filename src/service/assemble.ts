/**
 * Builds a running controller from a loaded config: one provider and one
 * ClusterController per cluster entry, sharing the clock, the decision log
 * and the policy set. `vigil run`, the demo and the scenario runner all
 * assemble the same way, so what the tests exercise is what runs.
 */
import type { Clock } from '../clock/clock.js';
import type { VigilConfig } from '../config/load.js';
import { DecisionLog } from '../decisions.js';
import { PollCountDetector } from '../health/poll-count-detector.js';
import type { Logger } from '../log.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Provider } from '../provider.js';
import { MemoryJournal, type Journal } from '../state/journal.js';
import { ClusterController } from './cluster-controller.js';
import type { StatusReport } from './status.js';

export interface AssembleOptions {
  readonly config: VigilConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly policies: PolicySet;
  readonly decisions?: DecisionLog;
  readonly journalFor?: (cluster: string) => Journal;
  readonly purpose?: 'service' | 'oneshot';
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
    private readonly clock: Clock,
    private readonly policyRef: PolicyRef,
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

  /** Every cluster has completed at least one poll. */
  ready(): boolean {
    return this.clusters.every((c) => c.polls > 0);
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

  status(): StatusReport {
    return { generatedAt: new Date(this.clock.now()).toISOString(), source: 'service', clusters: this.clusters.map((c) => c.status()) };
  }
}

export async function assembleController(o: AssembleOptions): Promise<Controller> {
  const decisions = o.decisions ?? new DecisionLog(o.logger);
  const providers = new Map<string, Provider>();
  const clusters: ClusterController[] = [];
  const policyRef: PolicyRef = { current: o.policies };
  try {
    for (const { config, module } of o.config.clusters) {
      const provider = await module.create(config, { clock: o.clock, logger: o.logger.child({ cluster: config.name }), baseDir: o.config.baseDir, purpose: o.purpose ?? 'service' });
      providers.set(config.name, provider);
      const ctl = o.config.controller;
      clusters.push(
        new ClusterController({
          name: config.name,
          provider,
          clock: o.clock,
          logger: o.logger.child({ cluster: config.name }),
          decisions,
          policies: () => policyRef.current,
          detector: new PollCountDetector({ failAfterPolls: ctl.detection.failAfterPolls }),
          journal: o.journalFor?.(config.name) ?? new MemoryJournal(),
          mode: (config.mode as 'enforce' | 'observe' | undefined) ?? ctl.mode,
          pollIntervalMs: (config.pollInterval as number | undefined) ?? ctl.pollInterval,
          execution: {
            maxParallel: ctl.execution.maxParallel,
            taskTimeoutMs: ctl.execution.taskTimeout,
            taskPollMs: ctl.execution.taskPollInterval,
            retries: ctl.execution.retries,
          },
        }),
      );
    }
  } catch (e) {
    await Promise.allSettled([...providers.values()].map((p) => p.close()));
    throw e;
  }
  return new Controller(clusters, providers, decisions, o.clock, policyRef);
}
