/**
 * `vigil run` in replicated mode: opens the etcd state for the config's
 * clusters and ties it to the running controller. A cluster this replica
 * gains is reconciled at once (the takeover does not wait for the next
 * poll); every gain and loss is a decision (status, log) and counted in
 * vigil_leadership_changes_total; an operator's record written through
 * another replica wakes this one's controller for that cluster.
 */
import type { VigilConfig } from '../../config/load.js';
import type { Logger } from '../../log.js';
import type { Controller } from '../../service/assemble.js';
import type { ServiceMetrics } from '../../service/metrics.js';
import type { EtcdConfig } from './config.js';
import { openEtcdState, type EtcdState } from './open.js';

const WAKES = new Set(['freeze', 'unfreeze', 'fence-confirmed']);

export interface Replicated {
  readonly state: EtcdState;
  /** Ties the state to the assembled controller (and its metrics). */
  attach(controller: Controller, metrics?: ServiceMetrics): void;
}

/** Replicated mode for a config that names `state.etcd`. */
export async function openReplicated(config: VigilConfig & { etcd: EtcdConfig }, logger: Logger): Promise<Replicated> {
  const busy: { of?: (cluster: string) => boolean } = {};
  const state = await openEtcdState({
    config: config.etcd,
    baseDir: config.baseDir,
    clusters: config.clusters.map((c) => c.config.name),
    logger,
    busy: (c) => busy.of?.(c) ?? false,
  });
  const attach = (controller: Controller, metrics?: ServiceMetrics): void => {
    busy.of = (name) => {
      const s = controller.cluster(name)?.status(1);
      return !!s && (s.inflight.length > 0 || s.fencing.some((f) => f.state === 'fencing'));
    };
    state.onChange((cluster, change, why) => {
      metrics?.leadershipChanges.inc({ cluster, change });
      const message = change === 'gained' ? `this replica (${state.replica}) leads ${cluster} now: ${why}` : `this replica (${state.replica}) no longer leads ${cluster}: ${why}; it takes no more action on it`;
      controller.decisions.record({ at: Date.now(), cluster, kind: 'info', subject: cluster, message, data: { leadership: change, replica: state.replica } });
      if (change === 'gained') controller.cluster(cluster)?.requestReconcile();
    });
    state.onRemoteRecord((cluster, record) => {
      if (!WAKES.has(record.type)) return;
      for (const c of controller.clusters) if (cluster === '*' || c.name === cluster) c.requestReconcile();
    });
  };
  return { state, attach };
}
