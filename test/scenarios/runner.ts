/**
 * Plays one scenario folder on the lab with a fake clock and returns its
 * decision log and the lab's operation log, as text.
 *
 * A folder holds: README.md (what and why), inventory.yaml, an optional
 * policies/ directory, timeline.yaml (settings, `until`, and events) and
 * expected.log. The controller is assembled exactly as `vigil run` does.
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
import { assembleController } from '../../src/service/assemble.js';
import simProvider, { SimProvider } from '../../providers/sim/index.js';
import type { LabLogEntry } from '../../providers/sim/lab.js';
import { applyLabEvent, isLabEvent, parseTimelineEvents } from '../../providers/sim/timeline.js';

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
    mode: z.enum(['enforce', 'observe']).default('enforce'),
    maxParallel: z.number().int().min(1).default(8),
    /** The scenario proves the lab catches a double start; its errors are expected. */
    expectLabErrors: z.boolean().default(false),
  })
  .default({ pollInterval: '10s', failAfterPolls: 3, mode: 'enforce', maxParallel: 8, expectLabErrors: false });

export async function runScenario(dir: string): Promise<ScenarioResult> {
  const timelineFile = readYamlFile(join(dir, 'timeline.yaml'));
  const d = timelineFile.documents[0];
  if (!d) throw new ProblemsError(timelineFile.problems);
  const raw = (d.data ?? {}) as { settings?: unknown; until?: string; events?: unknown };
  const settings = settingsSchema.parse(raw.settings);
  const until = parseDuration(raw.until ?? '');
  if (until === undefined) throw new Error(`${dir}/timeline.yaml: "until" must be a duration`);
  const parsed = parseTimelineEvents(d, raw.events ?? [], ['events']);
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
    mode: settings.mode,
    detection: { failAfterPolls: settings.failAfterPolls },
    execution: { maxParallel: settings.maxParallel, taskPollInterval: '1s', taskTimeout: '10m', retries: 2 },
  });
  const clusterConfig = simProvider.configSchema.parse({ name: 'lab', provider: 'sim', inventory: join(dir, 'inventory.yaml') });
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
  const controller = await assembleController({ config, clock, logger: silentLogger(), policies, decisions });
  const provider = controller.providers.get('lab');
  const lab = provider instanceof SimProvider ? provider.lab : undefined;
  if (!lab) throw new Error('scenario needs the in-process lab');

  controller.start();
  for (const ev of parsed.events) {
    await clock.advanceTo(origin + ev.at);
    if (isLabEvent(ev.name)) applyLabEvent(lab, ev.name, ev.arg);
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
