/**
 * The `vsphere` provider: VMware vCenter over the vSphere Web Services API
 * (SOAP, vim25). It reads a cluster in a few round trips and keeps the
 * reading current with WaitForUpdatesEx; it live-migrates, restarts a failed
 * host's VMs elsewhere, and puts hosts into maintenance. It decides nothing.
 * See docs/providers/vsphere.md.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { clusterBaseShape, duration } from '../../src/config/schema.js';
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { PROVIDER_CONTRACT_VERSION, type HostRef, type Provider, type ProviderCapabilities, type ProviderContext, type ProviderModule, type TaskRef, type TaskState, type VmRef } from '../../src/provider.js';
import { InventoryCollector } from './collector.js';
import { translate } from './errors.js';
import { VsphereOperations } from './operations.js';
import { Session } from './session.js';
import { SoapTransport } from './soap.js';
import { httpsAgentFor, normalizeThumbprint } from './tls.js';

export const vsphereConfigSchema = z
  .strictObject({
    ...clusterBaseShape,
    provider: z.literal('vsphere'),
    /** vCenter's SDK endpoint, e.g. https://vcenter.example/sdk (a bare https://vcenter.example gets /sdk). */
    url: z.url({ protocol: /^https?$/ }).refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'give the user and password as username and password, not in the URL'),
    username: z.string().min(1),
    password: z.string().min(1),
    /** Datacenter name or inventory path; optional when vCenter has only one. */
    datacenter: z.string().min(1).optional(),
    /** Cluster name (or path below the datacenter's host folder); without it the whole datacenter is one Vigil cluster. */
    cluster: z.string().min(1).optional(),
    /** PEM file with the CA (or the certificate itself) vCenter's certificate must chain to. */
    caFile: z.string().min(1).optional(),
    /** Pinned SHA-1 or SHA-256 thumbprint of vCenter's certificate (hex, colons optional). */
    thumbprint: z
      .string()
      .refine((t) => [59, 95].includes(normalizeThumbprint(t).length), 'must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint')
      .optional(),
    /** Skip TLS verification. Only on request; a warning is logged. */
    insecure: z.boolean().default(false),
    /** Per-call timeout. */
    timeout: duration(100).default(60_000),
    /** How often the provider polls vSphere tasks inside a restart. */
    taskPollInterval: duration(50).default(1_000),
    /** Read the whole cluster again at least this often, even when the update stream looks healthy. */
    fullReadInterval: duration(1_000).default(15 * 60_000),
    /** Objects per RetrievePropertiesEx page. */
    pageSize: z.number().int().min(1).max(100_000).default(5_000),
  })
  .refine((c) => !(c.insecure && (c.caFile || c.thumbprint)), { message: 'insecure: true turns verification off; do not combine it with caFile or thumbprint', path: ['insecure'] })
  .refine((c) => !(c.caFile && c.thumbprint), { message: 'give either caFile or thumbprint, not both', path: ['thumbprint'] });

export type VsphereClusterConfig = z.infer<typeof vsphereConfigSchema>;

const CAPABILITIES: ProviderCapabilities = {
  liveMigration: true,
  restartElsewhere: true,
  maintenanceMode: true,
  storageHealth: true,
  events: false,
  powerOff: true,
};

export class VsphereProvider implements Provider {
  readonly kind = 'vsphere';
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly capabilities = CAPABILITIES;

  constructor(
    readonly name: string,
    private readonly ctx: ProviderContext,
    readonly transport: SoapTransport,
    readonly session: Session,
    readonly collector: InventoryCollector,
    private readonly ops: VsphereOperations,
    private readonly username: string,
  ) {}

  /** HTTP round trips to vCenter so far (the benchmark's unit). */
  get roundTrips(): number {
    return this.transport.roundTrips;
  }

  async snapshot(signal?: AbortSignal): Promise<ClusterSnapshot> {
    try {
      await this.collector.refresh(signal);
    } catch (e) {
      throw translate(e, `read cluster ${this.name}`, { username: this.username });
    }
    return this.collector.cache.snapshot(this.name, this.kind, this.ctx.clock.now());
  }

  migrate(vm: VmRef, to: HostRef, _opts: { live: boolean }): Promise<TaskRef> {
    return this.ops.migrate(vm, to);
  }

  restart(vm: VmRef, on: HostRef): Promise<TaskRef> {
    return this.ops.restart(vm, on);
  }

  setMaintenance(host: HostRef, on: boolean): Promise<TaskRef> {
    return this.ops.setMaintenance(host, on);
  }

  powerOff(vm: VmRef): Promise<TaskRef> {
    return this.ops.powerOff(vm);
  }

  task(ref: TaskRef): Promise<TaskState> {
    return this.ops.task(ref);
  }

  async close(): Promise<void> {
    try {
      await this.session.logout();
    } catch (e) {
      this.ctx.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'vSphere logout failed');
    }
  }
}

export function sdkUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/sdk';
  return u.toString();
}

async function create(config: VsphereClusterConfig, ctx: ProviderContext): Promise<Provider> {
  const url = sdkUrl(config.url);
  const httpsAgent = url.startsWith('https:')
    ? httpsAgentFor(
        { ...(config.caFile ? { caFile: config.caFile } : {}), ...(config.thumbprint ? { thumbprint: config.thumbprint } : {}), insecure: config.insecure },
        (p) => resolve(ctx.baseDir, p),
        (msg) => ctx.logger.warn({ cluster: config.name }, msg),
      )
    : undefined;
  if (url.startsWith('http:')) ctx.logger.warn({ cluster: config.name }, 'vCenter is reached over plain http: the password travels unencrypted');
  const transport = new SoapTransport({ url, timeoutMs: config.timeout, ...(httpsAgent ? { httpsAgent } : {}) });
  const session = new Session(transport, { username: config.username, password: config.password }, (generation, sc) => {
    const where = { cluster: config.name, url, user: config.username, api: `${sc.apiType} ${sc.apiVersion}` };
    if (generation === 1) ctx.logger.info(where, `logged in to vCenter as ${config.username}`);
    else ctx.logger.warn(where, 'the vCenter session was lost; logged in again');
  });
  const collector = new InventoryCollector(session, {
    ...(config.datacenter ? { datacenter: config.datacenter } : {}),
    ...(config.cluster ? { cluster: config.cluster } : {}),
    pageSize: config.pageSize,
    fullReadIntervalMs: config.fullReadInterval,
    watch: ctx.purpose !== 'oneshot',
    clock: ctx.clock,
    logger: ctx.logger,
  });
  const ops = new VsphereOperations(session, collector, { clock: ctx.clock, logger: ctx.logger, taskPollMs: config.taskPollInterval });
  return new VsphereProvider(config.name, ctx, transport, session, collector, ops, config.username);
}

const vsphereProvider: ProviderModule<VsphereClusterConfig> = {
  name: 'vsphere',
  contractVersion: PROVIDER_CONTRACT_VERSION,
  capabilities: CAPABILITIES,
  configSchema: vsphereConfigSchema,
  create,
};

export default vsphereProvider;
