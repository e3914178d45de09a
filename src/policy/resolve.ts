/** The policies a config points at: its directory when it exists, none when it was not named and is absent. */
import { existsSync } from 'node:fs';
import { ProblemsError } from '../config/problems.js';
import type { VigilConfig } from '../config/load.js';
import { loadPolicyDir, type PolicyLoadResult } from './load.js';
import { PolicySet } from './policy-set.js';

export function checkConfigPolicies(config: VigilConfig, dirOverride?: string): PolicyLoadResult {
  const dir = dirOverride ?? config.policiesDir;
  if (!dirOverride && !config.policiesExplicit && !existsSync(dir)) return { policies: PolicySet.empty(), problems: [], files: [], sources: [] };
  return loadPolicyDir(dir);
}

export function loadConfigPolicies(config: VigilConfig, dirOverride?: string): PolicySet {
  const r = checkConfigPolicies(config, dirOverride);
  if (!r.policies) throw new ProblemsError(r.problems);
  return r.policies;
}
