/**
 * The `sim` provider: Vigil's built-in simulated lab, in this process
 * (`inventory:`) or in its own (`url:` of `vigil lab serve`). It translates
 * lab answers into the model and lab refusals into Vigil's errors, as every
 * provider does for its platform.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../src/clock/clock.js';
import { clusterBaseShape, listenAddress } from '../../src/config/schema.js';
import { parseListen } from '../../src/config/listen.js';
import { ProblemsError } from '../../src/config/problems.js';
import { readYamlFile } from '../../src/config/yaml-source.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { builtinPath } from '../../src/paths.js';
import {
  PROVIDER_CONTRACT_VERSION,
  type HostRef,
  type Provider,
  type ProviderCapabilities,
  type ProviderContext,
  type ProviderModule,
  type TaskRef,
  type TaskState,
  type VmRef,
} from '../../src/provider.js';
import { Lab, LabError, type LabTaskInfo } from './lab.js';
import { HttpLabApi, InProcessLabApi, type LabApi } from './lab-api.js';
import { buildLabServer } from './lab-server.js';
import { parseTimelineEvents, scheduleLabTimeline } from './timeline.js';

export const BUILTIN_INVENTORY = 'examples/lab.yaml';

const timings = z
  .strictObject({
    migrationBaseMs: z.number().nonnegative(),
    migrationGiBPerSecond: z.number().positive(),
    powerOnBaseMs: z.number().nonnegative(),
    powerOnMsPerGiB: z.number().nonnegative(),
    powerOffMs: z.number().nonnegative(),
    maintenanceMs: z.number().nonnegative(),
    powerOffHostMs: z.number().nonnegative(),
  })
  .partial();

export const simConfigSchema = z
  .strictObject({
    ...clusterBaseShape,
    provider: z.literal('sim'),
    /** Inventory file of an in-process lab (default: the built-in lab). */
    inventory: z.string().min(1).optional(),
    /** Base URL of a lab served by `vigil lab serve`. */
    url: z.url().optional(),
    /** Which of the lab's clusters this entry is (default: the entry's name, else the lab's only cluster). */
    cluster: z.string().min(1).optional(),
    /** Also serve the in-process lab over HTTP, so it can be poked from another terminal. */
    listen: listenAddress.optional(),
    /** Scripted lab events, relative to start (for `npm start` and demos). */
    timeline: z.string().min(1).optional(),
    timings: timings.optional(),
  })
  .refine((c) => !(c.inventory && c.url), { message: 'give either inventory (an in-process lab) or url (a served lab), not both', path: ['url'] })
  .refine((c) => !(c.url && (c.listen || c.timeline)), { message: 'listen and timeline apply to an in-process lab, not to url', path: ['url'] });

export type SimClusterConfig = z.infer<typeof simConfigSchema>;

const CAPABILITIES: ProviderCapabilities = {
  liveMigration: true,
  restartElsewhere: true,
  maintenanceMode: true,
  storageHealth: true,
  events: false,
  powerOff: true,
};

/** One in-process lab per inventory file and clock, shared by every cluster entry that names it. */
const sharedLabs = new WeakMap<Clock, Map<string, SharedLab>>();

interface SharedLab {
  readonly lab: Lab;
  serving?: Promise<void>;
  timeline?: boolean;
}

export function sharedLab(inventoryPath: string, clock: Clock, timingsOverride?: SimClusterConfig['timings']): SharedLab {
  let byPath = sharedLabs.get(clock);
  if (!byPath) {
    byPath = new Map();
    sharedLabs.set(clock, byPath);
  }
  let entry = byPath.get(inventoryPath);
  if (!entry) {
    const { inventory } = loadInventoryFile(inventoryPath);
    entry = { lab: new Lab(inventory, clock, timingsOverride ? { timings: timingsOverride } : {}) };
    byPath.set(inventoryPath, entry);
  }
  return entry;
}

export class SimProvider implements Provider {
  readonly kind = 'sim';
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly capabilities = CAPABILITIES;

  constructor(
    readonly name: string,
    private readonly labCluster: string,
    readonly api: LabApi,
  ) {}

  /** The lab object, when it runs in this process. */
  get lab(): Lab | undefined {
    return this.api instanceof InProcessLabApi ? this.api.lab : undefined;
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const snap = await this.guard(() => this.api.snapshot(this.labCluster), 'snapshot');
    return { ...snap, cluster: this.name };
  }

  migrate(vm: VmRef, to: HostRef, opts: { live: boolean }): Promise<TaskRef> {
    return this.guard(() => this.api.migrate(vm.id, to.id, opts.live), `migrate ${vm.name}`).then(ref);
  }

  restart(vm: VmRef, on: HostRef): Promise<TaskRef> {
    return this.guard(() => this.api.restart(vm.id, on.id), `restart ${vm.name}`).then(ref);
  }

  setMaintenance(host: HostRef, on: boolean): Promise<TaskRef> {
    return this.guard(() => this.api.setMaintenance(host.id, on), `maintenance ${host.name}`).then(ref);
  }

  powerOff(vm: VmRef): Promise<TaskRef> {
    return this.guard(() => this.api.powerOff(vm.id), `power off ${vm.name}`).then(ref);
  }

  async task(r: TaskRef): Promise<TaskState> {
    const t = await this.guard(() => this.api.task(r.id), `task ${r.id}`);
    if (t.state === 'running') return { state: 'running' };
    if (t.state === 'success') return { state: 'success' };
    return { state: 'error', message: t.error ?? 'the lab task failed', retryable: false };
  }

  /** The controller's own probe of a lab host. */
  probe(host: HostRef): Promise<boolean> {
    return this.guard(() => this.api.probe(host.id), `probe ${host.name}`);
  }

  close(): Promise<void> {
    return this.api.close();
  }

  private async guard<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw translate(e, what);
    }
  }
}

function ref(t: LabTaskInfo): TaskRef {
  return { id: t.id, op: t.op };
}

function translate(e: unknown, what: string): VigilError {
  if (!(e instanceof LabError)) return new VigilError(ErrorCodes.INTERNAL, `${what}: ${(e as Error).message}`, { cause: e });
  const message = `${what}: ${e.message}`;
  if (e.status === 0 || e.status >= 500) return new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, message, { retryable: true, cause: e });
  if (e.status === 404) {
    const code = e.code === 'unknown-vm' ? ErrorCodes.UNKNOWN_VM : e.code === 'unknown-cluster' ? ErrorCodes.UNKNOWN_CLUSTER : e.code === 'unknown-task' ? ErrorCodes.UNKNOWN_TASK : ErrorCodes.UNKNOWN_HOST;
    return new VigilError(code, message, { expected: true, cause: e });
  }
  return new VigilError(ErrorCodes.PROVIDER_REFUSED, message, { expected: true, retryable: false, cause: e, details: { reason: e.code } });
}

async function create(config: SimClusterConfig, ctx: ProviderContext): Promise<Provider> {
  if (config.url) {
    const api = new HttpLabApi(config.url);
    return new SimProvider(config.name, config.cluster ?? config.name, api);
  }
  const inventoryPath = config.inventory ? resolve(ctx.baseDir, config.inventory) : builtinPath(BUILTIN_INVENTORY);
  const shared = sharedLab(inventoryPath, ctx.clock, config.timings);
  const clusters = shared.lab.clusterNames();
  const labCluster = config.cluster ?? (clusters.includes(config.name) ? config.name : clusters.length === 1 ? clusters[0] : undefined);
  if (!labCluster || !clusters.includes(labCluster)) {
    throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `cluster entry "${config.name}": the lab has clusters ${clusters.join(', ')}; say which with "cluster:"`, { expected: true });
  }
  if (config.listen && !shared.serving && ctx.purpose !== 'oneshot') {
    const { host, port } = parseListen(config.listen) as { host: string; port: number };
    const app = buildLabServer(shared.lab, ctx.clock);
    shared.serving = app.listen({ host, port }).then(() => {
      ctx.logger.info({ url: `http://${host}:${port}` }, `lab serving on http://${host}:${port}`);
    });
    await shared.serving;
  }
  if (config.timeline && !shared.timeline && ctx.purpose !== 'oneshot') {
    shared.timeline = true;
    const file = resolve(ctx.baseDir, config.timeline);
    const yaml = readYamlFile(file);
    const d = yaml.documents[0];
    const parsed = d ? parseTimelineEvents(d, (d.data as { events?: unknown })?.events, ['events']) : { events: [], problems: yaml.problems };
    if (parsed.problems.length) throw new ProblemsError(parsed.problems);
    scheduleLabTimeline(shared.lab, ctx.clock, parsed.events, (e, ev) => ctx.logger.error({ err: e, event: ev.name }, 'timeline event failed'));
    for (const ev of parsed.events) ctx.logger.info({ at: ev.at, event: ev.name, arg: ev.arg }, `lab timeline: ${ev.name} ${JSON.stringify(ev.arg)} at +${ev.at / 1000}s`);
  }
  return new SimProvider(config.name, labCluster, new InProcessLabApi(shared.lab, ctx.clock));
}

const simProvider: ProviderModule<SimClusterConfig> = {
  name: 'sim',
  contractVersion: PROVIDER_CONTRACT_VERSION,
  capabilities: CAPABILITIES,
  configSchema: simConfigSchema,
  create,
};

export default simProvider;
