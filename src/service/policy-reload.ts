/** Reloading policies in a running controller: a new set replaces the old only when it is valid. */
import type { VigilConfig } from '../config/load.js';
import { formatProblem, ProblemsError } from '../config/problems.js';
import type { DecisionLog } from '../decisions.js';
import { loadConfigPolicies } from '../policy/resolve.js';
import type { Controller } from './assemble.js';

export function reloadPolicies(controller: Controller, config: VigilConfig, decisions: DecisionLog, now: number): { ok: boolean; problems: string[] } {
  try {
    controller.setPolicies(loadConfigPolicies(config));
    decisions.record({ at: now, cluster: '*', kind: 'info', subject: 'policies', message: `policies reloaded from ${config.policiesDir}` });
    return { ok: true, problems: [] };
  } catch (e) {
    const problems = e instanceof ProblemsError ? e.problems.map(formatProblem) : [(e as Error).message];
    decisions.record({ at: now, cluster: '*', kind: 'alert', subject: 'policies', message: `the new policies are invalid; keeping the ones in force: ${problems.join('; ')}`, data: { problems } });
    return { ok: false, problems };
  }
}
