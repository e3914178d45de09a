/** Reloading policies in a running controller: a new set replaces the old only when it is valid. */
import { checkConfig, type VigilConfig } from '../config/load.js';
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

/**
 * SIGHUP: re-read vigil.yaml and the policies it names. An invalid config
 * is refused with its problems (the old one stays); a valid one supplies
 * the policy set (and `vigil run` re-reads the webhook credentials).
 * Changes to the cluster list, their connections, or the controller, state
 * and alerts settings need a restart, and Vigil says so instead of applying
 * half of them.
 */
export async function reloadConfig(controller: Controller, current: VigilConfig, decisions: DecisionLog, now: number): Promise<{ ok: boolean; config: VigilConfig; problems: string[] }> {
  const checked = await checkConfig(current.file, current.builtin);
  if (!checked.config) {
    const problems = checked.problems.map(formatProblem);
    decisions.record({ at: now, cluster: '*', kind: 'alert', subject: 'config', message: `the new config is invalid; keeping the one in force: ${problems.join('; ')}`, data: { problems } });
    return { ok: false, config: current, problems };
  }
  const clustersOf = (c: VigilConfig) => JSON.stringify(c.clusters.map((x) => x.config));
  if (clustersOf(checked.config) !== clustersOf(current)) {
    decisions.record({ at: now, cluster: '*', kind: 'alert', subject: 'config', message: 'the cluster list or a cluster connection changed: restart vigil to apply it (policies are reloaded now)' });
  }
  const { webhook: _newHook, ...newController } = checked.config.controller;
  const { webhook: _oldHook, ...oldController } = current.controller;
  if (JSON.stringify(newController) !== JSON.stringify(oldController) || JSON.stringify(checked.config.alerts) !== JSON.stringify(current.alerts) || JSON.stringify(checked.config.etcd) !== JSON.stringify(current.etcd)) {
    decisions.record({ at: now, cluster: '*', kind: 'alert', subject: 'config', message: 'controller, state or alerts settings changed: restart vigil to apply them (policies and webhook credentials are reloaded now)' });
  }
  const r = reloadPolicies(controller, checked.config, decisions, now);
  return { ok: r.ok, config: r.ok ? checked.config : current, problems: r.problems };
}
