/** `vigil run`: the controller service. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { SystemClock } from '../../clock/clock.js';
import { formatDuration } from '../../clock/duration.js';
import { parseListen } from '../../config/listen.js';
import { createLogger } from '../../log.js';
import { loadConfigPolicies } from '../../policy/resolve.js';
import { assembleController } from '../../service/assemble.js';
import { buildServiceHttp } from '../../service/http.js';
import { reloadConfig } from '../../service/policy-reload.js';
import { openState, type OpenedState } from '../../state/open-state.js';
import { openReplicated, type Replicated } from '../../state/etcd/replicated.js';
import { registerHooks, webhookSettings } from '../../service/hooks/index.js';
import { controllerHooks } from '../../service/controller-hooks.js';
import { startAlerts } from '../../alerts/index.js';
import { createMetrics, type ServiceMetrics } from '../../service/metrics.js';
import { AutoRebalancer } from '../../service/auto-rebalance.js';
import { globals, loadCliConfig, toCliExit } from '../common.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the controller service: poll loop, status API (see README for HTTP routes)')
    .action(async (_opts, cmd: Command) => {
      const g = globals(cmd);
      const logger = createLogger({ fd: g.json ? 2 : 1, level: g.logLevel ?? 'info' });
      const config = await loadCliConfig(g);
      let policies;
      try {
        policies = loadConfigPolicies(config);
      } catch (e) {
        throw toCliExit(e);
      }
      const clock = new SystemClock();
      // Replicated mode (state.etcd, docs/replicas.md): the journal and each cluster's leadership live in etcd, not in stateDir.
      // etcd that does not answer, or a prefix that is not Vigil's, stops the start here, before anything is acted on.
      let replicated: Replicated | undefined;
      try {
        replicated = config.etcd ? await openReplicated({ ...config, etcd: config.etcd }, logger) : undefined;
      } catch (e) {
        throw toCliExit(e);
      }
      let state: OpenedState | undefined;
      if (!replicated) {
        // The journal and its lock: a second controller on this state directory stops here, before it does anything.
        const stateDir = resolve(config.baseDir, config.controller.stateDir);
        try {
          state = openState(stateDir, { logger });
        } catch (e) {
          throw toCliExit(e);
        }
        const opened = state.report;
        logger.info({ journal: opened.path, records: opened.records, bytes: opened.bytes }, `journal ${opened.path}: ${opened.created ? 'created' : `${opened.records} records`}`);
        if (opened.cut) logger.warn({ cut: opened.cut }, `the journal ended in a torn record (a crash while writing); it was cut and saved aside`);
      }
      const closeState = async (): Promise<void> => {
        state?.close();
        await replicated?.state.close();
      };
      // Metrics read the controller, and the controller reports its polls to them: the ref closes the loop.
      const metricsRef: { current?: ServiceMetrics } = {};
      const journal = replicated?.state.journal ?? (state as OpenedState).journal;
      const leadership = replicated ? { leadership: (c: string) => replicated.state.leadership(c), stateReady: () => replicated.state.ready() } : {};
      const controller = await assembleController({ config, clock, logger, policies, journal, ...leadership, onPoll: (c, p, ms, ok) => metricsRef.current?.observePoll(c, p, ms / 1000, ok) }).catch(async (e: unknown) => {
        await closeState();
        throw toCliExit(e);
      });
      const opened = state?.report;
      if (opened?.cut) controller.decisions.record({ at: clock.now(), cluster: '*', kind: 'journal', subject: 'journal', message: `a torn record at the end of ${opened.path} was cut (${opened.cut.bytes} bytes, saved to ${opened.cut.savedTo}): ${opened.cut.why}` });
      const metrics = createMetrics(() => controller.status(), controller.decisions);
      metricsRef.current = metrics;
      replicated?.attach(controller, metrics);
      const hookSettings = await webhookSettings(config.controller.webhook, config.baseDir).catch(async (e: unknown) => {
        await closeState();
        throw toCliExit(e);
      });
      for (const w of hookSettings.warnings) logger.warn(`webhooks: ${w}`);
      const hooks = controllerHooks(controller, config, hookSettings, { clock, logger: logger.child({ component: 'webhooks' }), metrics: metrics.hooks });
      let controlTokens = hookSettings.auth.tokens ?? [];
      const http = buildServiceHttp(controller, { clock, metrics, tokens: () => controlTokens });
      const hooksHandle = registerHooks(http, hooks);
      const alerts = config.alerts ? startAlerts({ decisions: controller.decisions, status: () => controller.status(), clock, logger, config: config.alerts, baseDir: config.baseDir, counters: metrics.alerts }) : undefined;
      const listen = parseListen(config.controller.listen) as { host: string; port: number };
      await http.listen(listen);
      controller.start();
      replicated?.state.start();
      // Rebalancing by itself, for clusters whose ClusterPolicy asks for it.
      const autoRebalance = new AutoRebalancer({ controller, clock });
      autoRebalance.start();
      const base = `http://${listen.host}:${listen.port}`;
      logger.info(
        { clusters: config.clusters.map((c) => c.config.name), status: `${base}/api/v1/status` },
        `Vigil is watching ${config.clusters.length} cluster(s) (${config.clusters.map((c) => `${c.config.name}: ${c.config.provider}`).join(', ')}), ` +
          `polling every ${formatDuration(config.controller.pollInterval)}; status at ${base}/api/v1/status`,
      );
      for (const { config: c } of config.clusters) {
        if (c.provider === 'sim' && typeof c.listen === 'string') {
          const lab = parseListen(c.listen) as { host: string; port: number };
          logger.info(
            `Lab "${c.name}" answers on http://${lab.host}:${lab.port}. From another terminal: ` +
              `node bin/vigil.js lab fail-host esx-03 --url http://${lab.host}:${lab.port}   (and lab recover-host, lab log)`,
          );
        }
      }
      if (config.builtin) logger.info('No ./vigil.yaml: running the built-in simulated lab (examples/builtin.yaml).');

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) return;
          stopping = true;
          logger.info({ signal }, 'stopping: no new actions; waiting for running ones');
          void (async () => {
            autoRebalance.stop();
            await controller.stop();
            await controller.idle();
            await http.close();
            await controller.close();
            await alerts?.stop();
            await closeState();
            logger.info('stopped');
            resolve();
          })();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        let inForce = config;
        process.on('SIGHUP', () => {
          void (async () => {
            const r = await reloadConfig(controller, inForce, controller.decisions, clock.now());
            if (!r.ok) return;
            // Rotated webhook secrets apply at once; unreadable ones leave the old ones in force.
            try {
              const fresh = await webhookSettings(r.config.controller.webhook, r.config.baseDir);
              hooksHandle.setAuth(fresh.auth);
              controlTokens = fresh.auth.tokens ?? [];
              for (const w of fresh.warnings) logger.warn(`webhooks: ${w}`);
            } catch (e) {
              controller.decisions.record({ at: clock.now(), cluster: '*', kind: 'alert', subject: 'config', message: `webhook credentials not reloaded, the old ones stay in force: ${(e as Error).message}` });
            }
            inForce = r.config;
          })();
        });
      });
    });
}
