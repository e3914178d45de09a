/**
 * What the webhook receivers need from a running controller: a resolver over
 * its clusters (host names, the platform's cluster name, the manager's URL)
 * and what to do with a hint. A hint about a host is evidence for detection
 * and asks for a reconcile; one about a whole cluster only asks for a look.
 * Neither acts by itself.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock/clock.js';
import type { VigilConfig } from '../config/load.js';
import type { Controller } from './assemble.js';
import { resolverFromInventory, type ClusterView, type HookMetrics, type HooksDeps } from './hooks/index.js';
import type { WebhookSettings } from './hooks/config.js';

export interface ControllerHooksOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: HookMetrics;
}

export function controllerHooks(controller: Controller, config: VigilConfig, settings: WebhookSettings, o: ControllerHooksOptions): HooksDeps {
  return {
    auth: settings.auth,
    limits: settings.limits,
    resolve: resolverFromInventory(() => clusterViews(controller, config), { cacheMs: 1_000, now: () => o.clock.now() }),
    onHint: (cluster, hint) => {
      const c = controller.cluster(cluster);
      if (!c) return;
      if (hint.host) c.addHint({ host: hint.host, at: hint.at, source: hint.source, message: hint.message });
      else c.requestReconcile();
    },
    clock: o.clock,
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
}

/** What the webhook resolver needs of each cluster: its hosts, and how the platform names it. */
export function clusterViews(controller: Controller, config: VigilConfig): ClusterView[] {
  return controller.clusters.map((c) => {
    const entry = config.clusters.find((x) => x.config.name === c.name)?.config;
    const platformCluster = typeof entry?.cluster === 'string' ? entry.cluster : undefined;
    const origin = typeof entry?.url === 'string' ? entry.url : undefined;
    return { name: c.name, hosts: c.status(0).hosts.map((h) => h.name), ...(platformCluster ? { platformCluster } : {}), ...(origin ? { origins: [origin] } : {}) };
  });
}
