/**
 * Providers by name. Each is loaded only when a config names it (the
 * vSphere provider's XML stack is not paid for by a lab user), and checked
 * against the contract version before use.
 */
import { ErrorCodes, VigilError } from './errors.js';
import { didYouMean } from './config/problems.js';
import { PROVIDER_CONTRACT_VERSION, type ProviderModule } from './provider.js';

type Loader = () => Promise<{ default: ProviderModule }>;

const BUILTIN: Record<string, Loader> = {
  sim: () => import('../providers/sim/index.js'),
  proxmox: () => import('../providers/proxmox/index.js'),
  hyperv: () => import('../providers/hyperv/index.js'),
  vsphere: () => import('../providers/vsphere/index.js'),
};

export function knownProviders(): string[] {
  return Object.keys(BUILTIN).sort();
}

export function unknownProviderMessage(name: string): string {
  const hint = didYouMean(name, knownProviders());
  return `unknown provider "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known providers: ${knownProviders().join(', ')}`;
}

export async function loadProviderModule(name: string): Promise<ProviderModule> {
  const loader = BUILTIN[name];
  if (!loader) throw new VigilError(ErrorCodes.PROVIDER_UNKNOWN, unknownProviderMessage(name), { expected: true });
  const mod = (await loader()).default;
  if (mod.name !== name) {
    throw new VigilError(ErrorCodes.PROVIDER_CONTRACT, `provider module registered as "${name}" calls itself "${mod.name}"`);
  }
  if (mod.contractVersion !== PROVIDER_CONTRACT_VERSION) {
    throw new VigilError(ErrorCodes.PROVIDER_CONTRACT, `provider "${name}" implements contract version ${mod.contractVersion}; this Vigil needs version ${PROVIDER_CONTRACT_VERSION}`);
  }
  return mod;
}
