/**
 * Loads vigil.yaml: parse with positions, substitute secrets, check the
 * common keys, then let each cluster's provider check its own keys. Every
 * problem found is reported (with FILE:LINE:COL), nothing is started.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { hasErrors, ProblemsError, type Problem } from './problems.js';
import { checkSchema, problemAt, readYamlFile, type YamlDocument } from './yaml-source.js';
import { clusterEntrySchema, configSchema, type ControllerConfig } from './schema.js';
import { substitute } from './substitute.js';
import type { EtcdConfig } from '../state/etcd/config.js';
import { knownProviders, loadProviderModule, unknownProviderMessage } from '../provider-registry.js';
import type { ClusterConfig, ProviderModule } from '../provider.js';
import type { AlertsConfig } from '../alerts/config.js';
import { builtinPath } from '../paths.js';

export interface LoadedCluster {
  readonly config: ClusterConfig;
  readonly module: ProviderModule;
}

export interface VigilConfig {
  /** The file it came from; for the built-in lab, the shipped file. */
  readonly file: string;
  readonly builtin: boolean;
  /** Relative paths in the config resolve against this directory. */
  readonly baseDir: string;
  readonly controller: ControllerConfig;
  /** Absolute path of the policy directory. */
  readonly policiesDir: string;
  /** True when the config named the policy directory (then it must exist). */
  readonly policiesExplicit: boolean;
  /** Replicated mode (docs/replicas.md): where the shared state lives. */
  readonly etcd?: EtcdConfig;
  readonly alerts?: AlertsConfig;
  readonly clusters: readonly LoadedCluster[];
  readonly warnings: readonly Problem[];
}

export const BUILTIN_CONFIG = 'examples/builtin.yaml';

/** Which file to use: the one given, else ./vigil.yaml, else the built-in lab. */
export function resolveConfigPath(given: string | undefined, cwd = process.cwd()): { path: string; builtin: boolean } {
  if (given) return { path: resolve(cwd, given), builtin: false };
  const local = resolve(cwd, 'vigil.yaml');
  if (existsSync(local)) return { path: local, builtin: false };
  return { path: builtinPath(BUILTIN_CONFIG), builtin: true };
}

export interface LoadConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Makes positions relative to this directory. */
  readonly displayBase?: string;
}

export async function loadConfig(path: string, builtin = false, options: LoadConfigOptions = {}): Promise<VigilConfig> {
  const { config, problems } = await checkConfig(path, builtin, options);
  if (!config || hasErrors(problems)) throw new ProblemsError(problems);
  return config;
}

export async function checkConfig(path: string, builtin = false, options: LoadConfigOptions = {}): Promise<{ config?: VigilConfig; problems: Problem[] }> {
  const display = displayName(path, options.displayBase);
  const yaml = readYamlFile(path, display);
  const problems: Problem[] = [...yaml.problems];
  const d = yaml.documents[0];
  if (!d) {
    if (!problems.length) problems.push({ file: display, line: 1, col: 1, message: 'the config file is empty', severity: 'error' });
    return { problems };
  }
  const baseDir = dirname(path);
  const subst = substitute(d, d.data, baseDir, options.env);
  problems.push(...subst.problems);
  const checked = checkSchema(d, configSchema, subst.value);
  if (!checked.ok) problems.push(...checked.problems);
  const entries = (subst.value as { clusters?: unknown } | null)?.clusters;
  const clusters: LoadedCluster[] = [];
  const names = new Set<string>();
  for (const [i, entry] of (Array.isArray(entries) ? entries : []).entries()) {
    const common = checkSchema(d, clusterEntrySchema, entry, ['clusters', i]);
    if (!common.ok) {
      problems.push(...common.problems);
      continue;
    }
    if (names.has(common.value.name)) problems.push(problemAt(d, ['clusters', i, 'name'], `cluster "${common.value.name}" is named twice`));
    names.add(common.value.name);
    const loaded = await checkCluster(d, i, common.value);
    problems.push(...loaded.problems);
    if (loaded.cluster) clusters.push(loaded.cluster);
  }
  if (!checked.ok) return { problems };
  const raw = checked.value;
  const policiesDir = resolve(baseDir, raw.policies ?? 'policies');
  if (raw.policies && !existsSync(policiesDir)) problems.push(problemAt(d, ['policies'], `policy directory ${raw.policies} not found`));
  if (hasErrors(problems)) return { problems };
  return {
    config: {
      file: path,
      builtin,
      baseDir,
      controller: raw.controller,
      policiesDir,
      policiesExplicit: raw.policies !== undefined,
      ...(raw.state?.etcd ? { etcd: raw.state.etcd } : {}),
      alerts: raw.alerts,
      clusters,
      warnings: problems,
    },
    problems,
  };
}

async function checkCluster(d: YamlDocument, i: number, entry: ClusterConfig): Promise<{ cluster?: LoadedCluster; problems: Problem[] }> {
  if (!knownProviders().includes(entry.provider)) {
    return { problems: [problemAt(d, ['clusters', i, 'provider'], unknownProviderMessage(entry.provider))] };
  }
  let module: ProviderModule;
  try {
    module = await loadProviderModule(entry.provider);
  } catch (e) {
    return { problems: [problemAt(d, ['clusters', i, 'provider'], (e as Error).message)] };
  }
  const checked = checkSchema(d, module.configSchema, entry, ['clusters', i]);
  if (!checked.ok) return { problems: checked.problems };
  return { cluster: { config: checked.value, module }, problems: [] };
}

function displayName(path: string, base = process.cwd()): string {
  const rel = relative(base, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
