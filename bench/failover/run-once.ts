/**
 * One failover on a generated lab in simulated time: build the controller as
 * `vigil run` does (sim provider, Redfish fencing through the lab's own BMC
 * reached in memory), fail a host at a chosen phase of the poll cycle,
 * optionally deliver an alarm hint, and time the decisions that follow.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { FakeClock } from '../../src/clock/fake-clock.js';
import type { VigilConfig } from '../../src/config/load.js';
import { controllerSchema } from '../../src/config/schema.js';
import { DecisionLog, type Decision } from '../../src/decisions.js';
import { injectTransport } from '../../src/fence/inject-transport.js';
import type { HttpTransport } from '../../src/fence/types.js';
import { silentLogger } from '../../src/log.js';
import { builtinPath } from '../../src/paths.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { assembleController, type Controller } from '../../src/service/assemble.js';
import { MemoryJournal } from '../../src/state/journal.js';
import simProvider, { SimProvider } from '../../providers/sim/index.js';
import { buildLabServer } from '../../providers/sim/lab-server.js';
import type { Lab } from '../../providers/sim/lab.js';
import { fleet } from '../lab-fleet.js';

export const FAILOVER_LAB = { hosts: 16, vms: 400 } as const;

export interface FailoverRunOptions {
  readonly clock: FakeClock;
  readonly pollIntervalMs: number;
  /** How far into the poll cycle the host fails. */
  readonly phaseMs: number;
  /** Deliver an alarm hint this long after the failure; none when undefined. */
  readonly hintAfterMs: number | undefined;
}

/** Milliseconds of simulated time from the failure. */
export interface FailoverTimes {
  readonly failedMs: number;
  readonly fenceMs: number;
  readonly firstRestartMs: number;
  readonly lastRunningMs: number;
  readonly restarted: number;
  readonly violations: number;
}

export async function failoverRun(o: FailoverRunOptions): Promise<FailoverTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-failover-'));
  try {
    return await runIn(dir, o);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runIn(dir: string, o: FailoverRunOptions): Promise<FailoverTimes> {
  const { clock } = o;
  writeFileSync(join(dir, 'inventory.yaml'), stringify(fleet(FAILOVER_LAB.hosts, FAILOVER_LAB.vms)));
  const fencing = { agents: [{ type: 'redfish', url: 'http://lab/lab/redfish/{host}', username: 'admin', password: 'lab', pollInterval: '1s' }] };
  const config: VigilConfig = {
    file: join(dir, 'vigil.yaml'),
    builtin: false,
    baseDir: dir,
    controller: controllerSchema.parse({ pollInterval: `${o.pollIntervalMs}ms`, pollJitter: 0 }),
    policiesDir: builtinPath('policies'),
    policiesExplicit: false,
    clusters: [{ config: simProvider.configSchema.parse({ name: 'bench', provider: 'sim', inventory: join(dir, 'inventory.yaml'), fencing }), module: simProvider }],
    warnings: [],
  };
  const decisions = new DecisionLog();
  const seen: Decision[] = [];
  decisions.subscribe((d) => seen.push(d));
  const journal = new MemoryJournal();
  const assemble = async (transport?: HttpTransport): Promise<{ controller: Controller; lab: Lab }> => {
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies: PolicySet.empty(), decisions, journal, purpose: 'oneshot', ...(transport ? { fenceTransport: transport } : {}) });
    const provider = controller.providers.get('bench');
    const lab = provider instanceof SimProvider ? provider.lab : undefined;
    if (!lab) throw new Error('the benchmark needs the in-process lab');
    return { controller, lab };
  };
  // The lab's own BMCs, reached in memory so simulated time holds.
  const first = await assemble();
  await first.controller.close();
  const { controller, lab } = await assemble(injectTransport(buildLabServer(first.lab, clock)));

  controller.start();
  // Settle into the poll rhythm, then fail the host at the chosen phase of the cycle.
  await clock.advance(3 * o.pollIntervalMs + o.phaseMs);
  const victim = 'host-0003';
  const victims = [...lab.runningVms()].filter(([, h]) => h === victim).map(([v]) => v);
  const failedAt = clock.now();
  lab.failHost(victim);
  if (o.hintAfterMs !== undefined) {
    await clock.advance(o.hintAfterMs);
    controller.cluster('bench')?.addHint({ host: victim, at: clock.now(), source: 'bench', message: 'host connection lost' });
  }
  const done = () => victims.every((v) => {
    const on = lab.runningVms().get(v);
    return on !== undefined && on !== victim;
  });
  for (let i = 0; i < 1_200 && !done(); i++) await clock.advance(250);
  await controller.stop();
  await controller.close();
  if (!done()) throw new Error(`the failover did not finish: ${victims.filter((v) => lab.runningVms().get(v) === victim || !lab.runningVms().has(v)).length} VMs still down`);

  const after = (pred: (d: Decision) => boolean): number => {
    const d = seen.find((x) => x.at >= failedAt && pred(x));
    if (!d) throw new Error('an expected decision is missing');
    return d.at - failedAt;
  };
  const failedMs = after((d) => d.kind === 'host-health' && d.subject === victim && d.data?.to === 'failed');
  const fencedMs = after((d) => d.kind === 'fenced' && d.subject === victim);
  const firstRestartMs = after((d) => d.kind === 'action-started');
  const starts = lab.log().filter((e) => e.op === 'start' && e.t >= failedAt);
  return {
    failedMs,
    fenceMs: fencedMs - failedMs,
    firstRestartMs,
    lastRunningMs: Math.max(...starts.map((e) => e.t)) - failedAt,
    restarted: starts.length,
    violations: lab.log().filter((e) => e.violation).length,
  };
}
