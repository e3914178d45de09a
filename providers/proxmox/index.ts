/**
 * The `proxmox` provider module: Proxmox VE through its REST API (the
 * proxmox-api typed client on Vigil's own transport), plus SSH for the two
 * things the API cannot do (manual recovery of a dead node's guests,
 * HA node maintenance). See docs/providers/proxmox.md.
 */
import { resolve } from 'node:path';
import { PROVIDER_CONTRACT_VERSION, type Provider, type ProviderCapabilities, type ProviderContext, type ProviderModule } from '../../src/provider.js';
import { proxmoxConfigSchema, type ProxmoxClusterConfig } from './config.js';
import { ProxmoxProvider } from './provider.js';
import { ClusterReader } from './reader.js';
import { SshRunner } from './ssh.js';
import { buildAgent, tlsMode } from './tls.js';
import { PveTransport, type FetchLike } from './transport.js';

const CAPABILITIES: ProviderCapabilities = {
  liveMigration: true,
  restartElsewhere: true,
  maintenanceMode: true,
  storageHealth: true,
  events: false,
  powerOff: false,
};

export interface CreateOptions {
  /** Replaces the HTTP stack (tests: nock's patched global fetch). */
  readonly fetch?: FetchLike;
}

export async function createProxmoxProvider(config: ProxmoxClusterConfig, ctx: ProviderContext, options: CreateOptions = {}): Promise<ProxmoxProvider> {
  const path = (p: string) => resolve(ctx.baseDir, p);
  const mode = tlsMode(config, path);
  if (mode.kind === 'insecure') ctx.logger.warn({ cluster: config.name, url: config.url }, `cluster ${config.name}: TLS certificate checks are OFF (insecure: true); anyone between Vigil and ${config.url} can read the API token`);
  const agent = buildAgent(mode, Math.min(config.timeout, 10_000));
  const transport = new PveTransport({
    endpoints: [config.url, ...(config.fallbackUrls ?? [])].map((u) => u.replace(/\/+$/, '')),
    credentials: config.tokenId ? { kind: 'token', tokenId: config.tokenId, secret: config.tokenSecret as string } : { kind: 'ticket', username: config.username as string, password: config.password as string },
    timeoutMs: config.timeout,
    dispatcher: agent,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    now: () => ctx.clock.now(),
  });
  const reader = new ClusterReader(transport, ctx.clock, config.slowRefresh, ctx.logger);
  const ssh = config.ssh ? new SshRunner(config.ssh, path) : undefined;
  return new ProxmoxProvider({ name: config.name, config, transport, reader, clock: ctx.clock, logger: ctx.logger, ...(ssh ? { ssh } : {}), close: () => agent.close() });
}

const proxmoxProvider: ProviderModule<ProxmoxClusterConfig> = {
  name: 'proxmox',
  contractVersion: PROVIDER_CONTRACT_VERSION,
  capabilities: CAPABILITIES,
  configSchema: proxmoxConfigSchema,
  create: (config, ctx): Promise<Provider> => createProxmoxProvider(config, ctx),
};

export default proxmoxProvider;
