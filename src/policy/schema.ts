/** The policy documents of interfaces.md, as schemas. Keys are the contract; see policies/README.md. */
import { z } from 'zod';
import { PRIORITIES } from '../model/actions.js';
import { isValidGlob } from './glob.js';

const labels = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const clusterPolicySchema = z.strictObject({
  kind: z.literal('ClusterPolicy'),
  cluster: z.string().min(1).default('*'),
  admission: z
    .strictObject({
      tolerateHostFailures: z.number().int().min(0).max(64).optional(),
    })
    .optional(),
  overcommit: z
    .strictObject({
      cpu: z.number().positive().max(64).optional(),
      memory: z.number().positive().max(4).optional(),
    })
    .optional(),
});

export const vmPolicySchema = z.strictObject({
  kind: z.literal('VmPolicy'),
  name: z.string().min(1),
  cluster: z.string().min(1).default('*'),
  match: z
    .strictObject({
      names: z.array(z.string().min(1).refine(isValidGlob, 'not a valid glob')).optional(),
      labels: labels.optional(),
    })
    .default({}),
  restart: z
    .strictObject({
      priority: z.enum(PRIORITIES as [string, ...string[]]).optional(),
    })
    .optional(),
  placement: z
    .strictObject({
      antiAffinityGroup: z.string().min(1).optional(),
      requireHostLabels: labels.optional(),
    })
    .optional(),
});

export type ClusterPolicyDoc = z.infer<typeof clusterPolicySchema>;
export type VmPolicyDoc = z.infer<typeof vmPolicySchema>;

export const POLICY_KINDS = ['ClusterPolicy', 'VmPolicy'] as const;
