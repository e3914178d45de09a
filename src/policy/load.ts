/**
 * Loads every policy file of a directory (`*.yaml`, `*.yml`, in name order),
 * checks each document against its kind's schema and returns every problem
 * with its position, not only the first.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { didYouMean, hasErrors, type Problem } from '../config/problems.js';
import { checkSchema, problemAt, readYamlFile, type YamlDocument } from '../config/yaml-source.js';
import { PolicySet } from './policy-set.js';
import { clusterPolicySchema, POLICY_KINDS, vmPolicySchema, type ClusterPolicyDoc, type VmPolicyDoc } from './schema.js';

export interface PolicyLoadResult {
  /** Present when there are no errors (warnings allowed). */
  readonly policies?: PolicySet;
  readonly problems: readonly Problem[];
  readonly files: readonly string[];
  /** Where each policy document came from, for cross-checks with positions. */
  readonly sources: readonly PolicySource[];
}

export interface PolicySource {
  readonly doc: YamlDocument;
  readonly policy: ClusterPolicyDoc | VmPolicyDoc;
}

export function policyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** `displayBase` makes positions relative (so they read `policies/db.yaml:3:5`). */
export function loadPolicyDir(dir: string, displayBase = process.cwd()): PolicyLoadResult {
  let files: string[];
  try {
    files = policyFiles(dir);
  } catch (e) {
    const display = relative(displayBase, dir) || dir;
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'policy directory not found' : (e as Error).message;
    return { problems: [{ file: display, line: 1, col: 1, message: reason, severity: 'error' }], files: [], sources: [] };
  }
  const problems: Problem[] = [];
  const clusterPolicies: ClusterPolicyDoc[] = [];
  const vmPolicies: VmPolicyDoc[] = [];
  const sources: PolicySource[] = [];
  const vmPolicyNames = new Map<string, YamlDocument>();
  for (const file of files) {
    const yaml = readYamlFile(file, relative(displayBase, file) || file);
    problems.push(...yaml.problems);
    for (const d of yaml.documents) {
      const parsed = parsePolicyDocument(d);
      problems.push(...parsed.problems);
      if (!parsed.policy) continue;
      sources.push({ doc: d, policy: parsed.policy });
      if (parsed.policy.kind === 'ClusterPolicy') clusterPolicies.push(parsed.policy);
      else {
        const seen = vmPolicyNames.get(parsed.policy.name);
        if (seen) {
          problems.push(problemAt(d, ['name'], `VmPolicy "${parsed.policy.name}" is also defined in ${seen.file}`));
        } else vmPolicyNames.set(parsed.policy.name, d);
        vmPolicies.push(parsed.policy);
      }
    }
  }
  const result = { problems, files, sources };
  return hasErrors(problems) ? result : { ...result, policies: new PolicySet(clusterPolicies, vmPolicies) };
}

export function parsePolicyDocument(d: YamlDocument): { policy?: ClusterPolicyDoc | VmPolicyDoc; problems: Problem[] } {
  const data = d.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { problems: [problemAt(d, [], 'a policy document must be a mapping with a "kind" key')] };
  }
  const kind = (data as Record<string, unknown>).kind;
  if (kind === undefined) return { problems: [problemAt(d, [], `missing required key "kind" (one of: ${POLICY_KINDS.join(', ')})`)] };
  if (kind === 'ClusterPolicy') {
    const r = checkSchema(d, clusterPolicySchema, data);
    return r.ok ? { policy: r.value, problems: [] } : { problems: r.problems };
  }
  if (kind === 'VmPolicy') {
    const r = checkSchema(d, vmPolicySchema, data);
    return r.ok ? { policy: r.value, problems: [] } : { problems: r.problems };
  }
  const hint = typeof kind === 'string' ? didYouMean(kind, POLICY_KINDS) : undefined;
  return {
    problems: [problemAt(d, ['kind'], `unknown kind ${JSON.stringify(kind)}${hint ? ` (did you mean "${hint}"?)` : ` (one of: ${POLICY_KINDS.join(', ')})`}`)],
  };
}
