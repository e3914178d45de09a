/** `vigil run`: the controller service. */
import type { Command } from 'commander';
import { SystemClock } from '../../clock/clock.js';
import { formatDuration } from '../../clock/duration.js';
import { parseListen } from '../../config/listen.js';
import { createLogger } from '../../log.js';
import { loadConfigPolicies } from '../../policy/resolve.js';
import { assembleController } from '../../service/assemble.js';
import { buildServiceHttp } from '../../service/http.js';
import { reloadPolicies } from '../../service/policy-reload.js';
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
      const controller = await assembleController({ config, clock, logger, policies }).catch((e: unknown) => {
        throw toCliExit(e);
      });
      const http = buildServiceHttp(controller);
      const listen = parseListen(config.controller.listen) as { host: string; port: number };
      await http.listen(listen);
      controller.start();
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
            await controller.stop();
            await controller.idle();
            await http.close();
            await controller.close();
            logger.info('stopped');
            resolve();
          })();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGHUP', () => void reloadPolicies(controller, config, controller.decisions, clock.now()));
      });
    });
}
