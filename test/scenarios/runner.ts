/**
 * Plays one scenario folder on the lab with a fake clock and returns its
 * decision log and the lab's operation log, as text.
 *
 * A folder holds: README.md (what and why), inventory.yaml, an optional
 * policies/ directory, timeline.yaml (settings, `until`, and events) and
 * expected.log. The controller is assembled exactly as `vigil run` does;
 * by default it fences through the lab's own Redfish BMCs, served in memory.
 *
 * Besides lab events, a timeline can hold what people and the world do to
 * the controller: `hint: HOST` (an alarm), `freeze: REASON`, `unfreeze: true`,
 * `fence-confirm: HOST` (an operator's word), `restart-controller: true` (a
 * crash: the controller is dropped mid-flight and started again on the same
 * journal and lab).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { parseDuration } from '../../src/clock/duration.js';
import { controllerSchema } from '../../src/config/schema.js';
import type { VigilConfig } from '../../src/config/load.js';
import { ProblemsError } from '../../src/config/problems.js';
import { readYamlFile } from '../../src/config/yaml-source.js';
import { DecisionLog, formatDecision, type Decision } from '../../src/decisions.js';
import { silentLogger } from '../../src/log.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { PolicySet } from '../../src/policy/policy-set.js';
import { assembleController, type Controller } from '../../src/service/assemble.js';
import { MemoryJournal } from '../../src/state/journal.js';
import type { HttpTransport } from '../../src/fence/types.js';
import simProvider, { SimProvider } from '../../providers/sim/index.js';
import type { Lab, LabLogEntry } from '../../providers/sim/lab.js';
import { buildLabServer } from '../../providers/sim/lab-server.js';
import { applyLabEvent, isLabEvent, parseTimelineEvents } from '../../providers/sim/timeline.js';
import { injectTransport } from '../../src/fence/inject-transport.js';

export interface ScenarioResult {
  readonly log: string;
  readonly labErrors: readonly LabLogEntry[];
  readonly expectLabErrors: boolean;
  readonly decisions: readonly Decision[];
}

const settingsSchema = z
  .strictObject({
    pollInterval: z.string().default('10s'),
    failAfterPolls: z.number().int().min(1).default(3),
    recoverAfterPolls: z.number().int().min(1).default(2),
    mode: z.enum(['enforce', 'observe']).default('enforce'),
    maxParallel: z.number().int().min(1).default(8),
    /** `lab-redfish`: fence through the lab's BMCs; `none`: no fencing agent configured. */
    fencing: z.enum(['lab-redfish', 'none']).default('lab-redfish'),
    /** Wrong BMC credentials, to show a fence that fails. */
    bmcPassword: z.string().default('lab'),
    guardMaxFailures: z.union([z.number(), z.string()]).default('40%'),
    /** The scenario proves the lab catches a double start; its violations are expected. */
    expectLabErrors: z.boolean().default(false),
  })
  .default({ pollInterval: '10s', failAfterPolls: 3, recoverAfterPolls: 2, mode: 'enforce', maxParallel: 8, fencing: 'lab-redfish', bmcPassword: 'lab', guardMaxFailures: '40%', expectLabErrors: false });

const CONTROLLER_EVENTS = {
  hint: z.string().min(1),
  freeze: z.string().min(1),
  unfreeze: z.literal(true),
  'fence-confirm': z.string().min(1),
  'restart-controller': z.literal(true),
};

export async function runScenario(dir: string): Promise<ScenarioResult> {
  const timelineFile = readYamlFile(join(dir, 'timeline.yaml'));
  const d = timelineFile.documents[0];
  if (!d) throw new ProblemsError(timelineFile.problems);
  const raw = (d.data ?? {}) as { settings?: unknown; until?: string; events?: unknown };
  const settings = settingsSchema.parse(raw.settings);
  const until = parseDuration(raw.until ?? '');
  if (until === undefined) throw new Error(`${dir}/timeline.yaml: "until" must be a duration`);
  const parsed = parseTimelineEvents(d, raw.events ?? [], ['events'], CONTROLLER_EVENTS);
  if (parsed.problems.length) throw new ProblemsError(parsed.problems);

  const policiesDir = join(dir, 'policies');
  let policies = PolicySet.empty();
  if (existsSync(policiesDir)) {
    const loaded = loadPolicyDir(policiesDir, dir);
    if (!loaded.policies) throw new ProblemsError(loaded.problems);
    policies = loaded.policies;
  }

  const clock = new FakeClock();
  const origin = clock.now();
  const controllerConfig = controllerSchema.parse({
    pollInterval: settings.pollInterval,
    // Exact poll times keep the expected logs exact.
    pollJitter: 0,
    mode: settings.mode,
    detection: { failAfterPolls: settings.failAfterPolls, recoverAfterPolls: settings.recoverAfterPolls },
    execution: { maxParallel: settings.maxParallel, taskPollInterval: '1s', taskTimeout: '10m', retries: 2 },
    guard: { maxFailures: settings.guardMaxFailures, window: '5m' },
  });
  const fencing = settings.fencing === 'lab-redfish' ? { agents: [{ type: 'redfish', url: 'http://lab/lab/redfish/{host}', username: 'admin', password: settings.bmcPassword, pollInterval: '1s', powerOffTimeout: '30s' }] } : undefined;
  const clusterConfig = simProvider.configSchema.parse({ name: 'lab', provider: 'sim', inventory: join(dir, 'inventory.yaml'), ...(fencing ? { fencing } : {}) });
  const config: VigilConfig = {
    file: join(dir, 'timeline.yaml'),
    builtin: false,
    baseDir: dir,
    controller: controllerConfig,
    policiesDir,
    policiesExplicit: false,
    clusters: [{ config: clusterConfig, module: simProvider }],
    warnings: [],
  };
  const decisions = new DecisionLog();
  const seen: Decision[] = [];
  decisions.subscribe((x) => seen.push(x));
  // The journal outlives a controller restart, as the file in stateDir does.
  const journal = new MemoryJournal();
  let transport: HttpTransport | undefined;
  const assemble = async (): Promise<{ controller: Controller; lab: Lab }> => {
    const controller = await assembleController({ config, clock, logger: silentLogger(), policies, decisions, journal, purpose: 'oneshot', ...(transport ? { fenceTransport: transport } : {}) });
    const provider = controller.providers.get('lab');
    const lab = provider instanceof SimProvider ? provider.lab : undefined;
    if (!lab) throw new Error('scenario needs the in-process lab');
    return { controller, lab };
  };
  let { controller, lab } = await assemble();
  if (fencing) {
    // The BMCs of this very lab, reached in memory so simulated time still holds.
    transport = injectTransport(buildLabServer(lab, clock));
    await controller.close();
    ({ controller, lab } = await assemble());
  }

  controller.start();
  for (const ev of parsed.events) {
    await clock.advanceTo(origin + ev.at);
    if (isLabEvent(ev.name)) {
      applyLabEvent(lab, ev.name, ev.arg);
      continue;
    }
    const cluster = controller.cluster('lab');
    switch (ev.name) {
      case 'hint':
        cluster?.addHint({ host: ev.arg as string, at: clock.now(), source: 'scenario', message: 'host connection lost' });
        break;
      case 'freeze':
        await journal.append({ type: 'freeze', cluster: 'lab', reason: ev.arg as string, by: 'operator', at: clock.now() });
        cluster?.requestReconcile();
        break;
      case 'unfreeze':
        await journal.append({ type: 'unfreeze', cluster: 'lab', by: 'operator', at: clock.now() });
        cluster?.requestReconcile();
        break;
      case 'fence-confirm':
        await journal.append({ type: 'fence-confirmed', cluster: 'lab', host: ev.arg as string, by: 'operator', at: clock.now() });
        cluster?.requestReconcile();
        break;
      case 'restart-controller': {
        // A crash: timers and in-flight work are dropped without ceremony; the journal and the lab stay.
        decisions.record({ at: clock.now(), cluster: 'lab', kind: 'info', subject: 'controller', message: 'the controller process dies and is started again' });
        await controller.crash();
        ({ controller } = await assemble());
        controller.start();
        break;
      }
    }
  }
  await clock.advanceTo(origin + until);
  await controller.stop();
  // Let actions already started finish, so the log shows their outcome.
  for (let i = 0; i < 600 && controller.clusters.some((c) => c.status().inflight.length); i++) await clock.advance(1_000);
  await controller.close();

  const labLog = lab.log();
  const lines = ['# decisions (lab time since start)', ...seen.map((x) => formatDecision(x, origin)), '', '# lab operations', ...labLog.map((e) => formatLabEntry(e, origin))];
  return { log: `${lines.join('\n')}\n`, labErrors: labLog.filter((e) => e.violation), expectLabErrors: settings.expectLabErrors, decisions: seen };
}

export function formatLabEntry(e: LabLogEntry, origin: number): string {
  const t = `${((e.t - origin) / 1000).toFixed(1)}s`.padStart(8);
  const subject = [e.vm, e.host && !e.vm ? e.host : undefined, e.vm && e.host ? `on ${e.host}` : undefined, e.datastore, e.from ? `${e.from} -> ${e.to}` : undefined]
    .filter(Boolean)
    .join(' ');
  return `${t} ${e.op}${subject ? ` ${subject}` : ''}${e.error ? ` ERROR: ${e.error}` : ''}${e.violation ? ' [VIOLATION]' : ''}${e.detail ? ` (${e.detail})` : ''}`;
}
