/**
 * What the what-if commands work on: snapshots of the live clusters (read
 * directly through their providers) or of an inventory file, and the
 * policies (the config's, or --policies).
 */
import { resolve } from 'node:path';
import { SystemClock } from '../clock/clock.js';
import { loadInventoryFile, snapshotFromInventory } from '../inventory/load.js';
import type { ClusterSnapshot } from '../model/inventory.js';
import { loadPolicyDir } from '../policy/load.js';
import type { PolicySet } from '../policy/policy-set.js';
import { loadConfigPolicies } from '../policy/resolve.js';
import { ProblemsError } from '../config/problems.js';
import { cliLogger, loadCliConfig, toCliExit, type GlobalOptions } from './common.js';

export interface WhatIfInput {
  readonly snapshots: readonly ClusterSnapshot[];
  readonly policies: PolicySet;
}

export async function readWhatIfInput(g: GlobalOptions, opts: { inventory?: string; policies?: string }): Promise<WhatIfInput> {
  const policies = await readPolicies(g, opts.policies);
  if (opts.inventory) {
    try {
      const { inventory } = loadInventoryFile(resolve(opts.inventory), opts.inventory);
      const now = Date.now();
      return { snapshots: inventory.clusters.map((c) => snapshotFromInventory(c, 'inventory', now)), policies };
    } catch (e) {
      throw toCliExit(e);
    }
  }
  const config = await loadCliConfig(g);
  const clock = new SystemClock();
  const logger = cliLogger(g);
  const snapshots: ClusterSnapshot[] = [];
  for (const { config: c, module } of config.clusters) {
    const provider = await module.create(c, { clock, logger, baseDir: config.baseDir, purpose: 'oneshot' }).catch((e: unknown) => {
      throw toCliExit(e);
    });
    try {
      snapshots.push(await provider.snapshot());
    } catch (e) {
      throw toCliExit(e);
    } finally {
      await provider.close();
    }
  }
  return { snapshots, policies };
}

async function readPolicies(g: GlobalOptions, dir: string | undefined): Promise<PolicySet> {
  try {
    if (dir) {
      const r = loadPolicyDir(resolve(dir));
      if (!r.policies) throw new ProblemsError(r.problems);
      return r.policies;
    }
    return loadConfigPolicies(await loadCliConfig(g));
  } catch (e) {
    throw toCliExit(e);
  }
}
