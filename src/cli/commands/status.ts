/** `vigil status`: ask the running controller; else read the clusters directly; or an inventory file offline. */
import type { Command } from 'commander';
import axios from 'axios';
import { resolve } from 'node:path';
import { SystemClock } from '../../clock/clock.js';
import { parseListen } from '../../config/listen.js';
import type { VigilConfig } from '../../config/load.js';
import { snapshotFromInventory, loadInventoryFile } from '../../inventory/load.js';
import { messageOf } from '../../errors.js';
import { clusterStatus, type StatusReport } from '../../service/status.js';
import { cliLogger, globals, loadCliConfig, printJson, println, toCliExit } from '../common.js';
import { renderStatus } from './status-table.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('clusters, hosts, VMs per host, datastores, frozen or not, recent actions')
    .option('--inventory <file>', 'report on an inventory file instead of live clusters')
    .action(async (opts: { inventory?: string }, cmd: Command) => {
      const g = globals(cmd);
      let report: StatusReport;
      if (opts.inventory) report = inventoryStatus(opts.inventory);
      else {
        const config = await loadCliConfig(g);
        report = (await serviceStatus(config)) ?? (await directStatus(config, g));
      }
      if (g.json) printJson(report);
      else println(renderStatus(report));
    });
}

function inventoryStatus(file: string): StatusReport {
  let loaded;
  try {
    loaded = loadInventoryFile(resolve(file), file);
  } catch (e) {
    throw toCliExit(e);
  }
  const now = Date.now();
  return {
    generatedAt: new Date(now).toISOString(),
    source: 'inventory',
    clusters: loaded.inventory.clusters.map((c) =>
      clusterStatus({ name: c.name, provider: 'inventory', mode: 'offline', frozen: false, snapshot: snapshotFromInventory(c, 'inventory', now), health: new Map(), inflight: [], unplaced: [], recent: [] }),
    ),
  };
}

/** The running controller's own report, when one listens at this config's address. */
export async function serviceStatus(config: VigilConfig): Promise<StatusReport | undefined> {
  const listen = parseListen(config.controller.listen);
  if (!listen) return undefined;
  try {
    const res = await axios.get<StatusReport>(`http://${listen.host}:${listen.port}/api/v1/status`, { timeout: 1500 });
    return res.data;
  } catch {
    return undefined;
  }
}

async function directStatus(config: VigilConfig, g: { logLevel?: string }): Promise<StatusReport> {
  const clock = new SystemClock();
  const logger = cliLogger(g);
  const clusters = [];
  for (const { config: c, module } of config.clusters) {
    let provider;
    try {
      provider = await module.create(c, { clock, logger, baseDir: config.baseDir, purpose: 'oneshot' });
    } catch (e) {
      throw toCliExit(e);
    }
    try {
      const snapshot = await provider.snapshot();
      clusters.push(clusterStatus({ name: c.name, provider: c.provider, mode: 'not running', frozen: false, snapshot, health: new Map(), inflight: [], unplaced: [], recent: [] }));
    } catch (e) {
      clusters.push(clusterStatus({ name: c.name, provider: c.provider, mode: 'not running', frozen: false, lastError: messageOf(e), health: new Map(), inflight: [], unplaced: [], recent: [] }));
    } finally {
      await provider.close();
    }
  }
  return { generatedAt: new Date(clock.now()).toISOString(), source: 'direct', clusters };
}
