/** `vigil run`: the controller service. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliExit, Exit } from '../exit.js';
import { SystemClock } from '../../clock/clock.js';
import { formatDuration } from '../../clock/duration.js';
import { parseListen } from '../../config/listen.js';
import { createLogger } from '../../log.js';
import { loadConfigPolicies } from '../../policy/resolve.js';
import { assembleController } from '../../service/assemble.js';
import { buildServiceHttp } from '../../service/http.js';
import { reloadConfig } from '../../service/policy-reload.js';
import { openState } from '../../state/open-state.js';
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
      // The journal and its lock: a second controller on this state directory stops here, before it does anything.
      const stateDir = resolve(config.baseDir, config.controller.stateDir);
      let state;
      try {
        state = openState(stateDir, { logger });
      } catch (e) {
        throw toCliExit(e);
      }
      const opened = state.report;
      logger.info({ journal: opened.path, records: opened.records, bytes: opened.bytes }, `journal ${opened.path}: ${opened.created ? 'created' : `${opened.records} records`}`);
      if (opened.cut) logger.warn({ cut: opened.cut }, `the journal ended in a torn record (a crash while writing); it was cut and saved aside`);
      // Metrics read the controller, and the controller reports its polls to them: the ref closes the loop.
      const metricsRef: { current?: ServiceMetrics } = {};
      const journal = state.journal;
      const controller = await assembleController({ config, clock, logger, policies, journal, onPoll: (c, p, ms, ok) => metricsRef.current?.observePoll(c, p, ms / 1000, ok) }).catch((e: unknown) => {
        state.close();
        throw toCliExit(e);
      });
      if (opened.cut) controller.decisions.record({ at: clock.now(), cluster: '*', kind: 'journal', subject: 'journal', message: `a torn record at the end of ${opened.path} was cut (${opened.cut.bytes} bytes, saved to ${opened.cut.savedTo}): ${opened.cut.why}` });
      const metrics = createMetrics(() => controller.status(), controller.decisions);
      metricsRef.current = metrics;
      const tokenFile = config.controller.webhook.tokenFile;
      const token = tokenFile ? readSecretFile(resolve(config.baseDir, tokenFile)) : undefined;
      const http = buildServiceHttp(controller, { clock, metrics, ...(token ? { token } : {}) });
      const listen = parseListen(config.controller.listen) as { host: string; port: number };
      await http.listen(listen);
      controller.start();
      // Rebalancing by itself, for clusters whose ClusterPolicy asks for it (issue 10).
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
            state.close();
            logger.info('stopped');
            resolve();
          })();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        let inForce = config;
        process.on('SIGHUP', () => {
          void reloadConfig(controller, inForce, controller.decisions, clock.now()).then((r) => {
            inForce = r.config;
          });
        });
      });
    });
}

function readSecretFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new CliExit(Exit.FAILURE, `error: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
