/**
 * The `hyperv` provider module: Hyper-V Failover Clusters and standalone
 * Hyper-V hosts, driven through one long-lived PowerShell session per
 * cluster entry (node-powershell). See docs/providers/hyperv.md.
 */
import { isAbsolute, resolve } from 'node:path';
import { PROVIDER_CONTRACT_VERSION, type Provider, type ProviderContext, type ProviderModule } from '../../src/provider.js';
import { hypervConfigSchema, type HyperVClusterConfig } from './config.js';
import { CLUSTER_CAPABILITIES, HyperVProvider } from './provider.js';
import { loadScripts } from './scripts.js';
import { PowerShellSession } from './session.js';

/** The environment variable the password travels in, from Vigil to its PowerShell process only. */
export const PASSWORD_ENV = 'VIGIL_HYPERV_PASSWORD';

function localPath(p: string, baseDir: string): string {
  return isAbsolute(p) || !/[\\/]/.test(p) ? p : resolve(baseDir, p);
}

async function create(config: HyperVClusterConfig, ctx: ProviderContext): Promise<Provider> {
  loadScripts();
  const logger = ctx.logger.child({ provider: 'hyperv' });
  if (config.insecure) logger.warn({ cluster: config.name }, 'hyperv: insecure is set; WinRM certificates are not verified (SkipCACheck, SkipCNCheck)');
  const session = new PowerShellSession({
    executable: localPath(config.powershell.executable, ctx.baseDir),
    arguments: config.powershell.arguments,
    env: { ...config.powershell.environment, ...(config.password ? { [PASSWORD_ENV]: config.password } : {}) },
    invocationTimeoutMs: config.powershell.invocationTimeout,
    logger,
    openInput: {
      transport: config.transport,
      username: config.username ?? '',
      passwordEnv: config.password ? PASSWORD_ENV : '',
      authentication: config.authentication ?? '',
      useSsl: config.useSsl,
      skipCertificateChecks: config.insecure,
      port: config.port ?? 0,
      keyFile: config.keyFile ? localPath(config.keyFile, ctx.baseDir) : '',
      openTimeoutMs: config.powershell.openTimeout,
      operationTimeoutMs: config.powershell.operationTimeout,
    },
  });
  return new HyperVProvider(config, session, ctx.clock, logger);
}

const hypervProvider: ProviderModule<HyperVClusterConfig> = {
  name: 'hyperv',
  contractVersion: PROVIDER_CONTRACT_VERSION,
  capabilities: CLUSTER_CAPABILITIES,
  configSchema: hypervConfigSchema,
  create,
};

export default hypervProvider;
