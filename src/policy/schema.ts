/**
 * The policy documents, as schemas. The keys of interfaces.md are the
 * contract; the rest extend it in the same style. policies/README.md
 * documents every key.
 */
import { z } from 'zod';
import { PRIORITIES } from '../model/actions.js';
import { duration } from '../config/types.js';
import { isValidGlob } from './glob.js';

const labels = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const glob = z.string().min(1).refine(isValidGlob, 'not a valid glob');
const percent = z.number().min(0).max(90);

/**
 * When a failed host's VMs may restart elsewhere: `required` only once the
 * host is proven off (fenced, or confirmed by an operator); `ifConfigured`
 * fences when an agent is configured for the host and otherwise restarts on
 * detection alone; `none` never waits for a fence (only for storage that
 * cannot be written twice).
 */
export const FENCING_MODES = ['required', 'ifConfigured', 'none'] as const;
export type FencingMode = (typeof FENCING_MODES)[number];

/**
 * What Vigil does when a host loses a datastore its running VMs use:
 * `alert` only; `migrate` live-migrates the VMs the manager still shows
 * running to hosts that reach the datastore (the default: a live migration
 * never runs a VM twice); `migrate-and-restart` also restarts, elsewhere,
 * the VMs that died with the loss (see docs/storage.md for the evidence it
 * waits for). A datastore lost everywhere is only ever an alert.
 */
export const STORAGE_LOSS_RESPONSES = ['alert', 'migrate', 'migrate-and-restart'] as const;
export type StorageLossResponse = (typeof STORAGE_LOSS_RESPONSES)[number];

const freePercent = z.number().min(0, 'must be a percentage from 0 to 100').max(100, 'must be a percentage from 0 to 100');

/** Replication lag and failover to a replica (Proxmox storage replication, Hyper-V Replica). */
const replicationShape = {
  /** Alert when a VM's replica is older than this. */
  rpo: duration(1_000).optional(),
  /** A VM with a replica and no shared storage may restart on its replica host after its host failed, losing the writes since the last sync. */
  acceptDataLoss: z.boolean().optional(),
};

export const storagePolicySchema = z
  .strictObject({
    /** Percent of a datastore's capacity that is free: below it, a warning... */
    freeWarning: freePercent.optional(),
    /** ...and below this, critical. Set both or neither (the alerts section's datastoreFree levels apply otherwise). */
    freeCritical: freePercent.optional(),
    onLoss: z.enum(STORAGE_LOSS_RESPONSES).optional(),
    /** A loss must be seen on consecutive polls spanning at least this long before Vigil moves or restarts anything. */
    actAfter: duration(0).optional(),
    ...replicationShape,
  })
  .superRefine((v, ctx) => {
    if ((v.freeWarning === undefined) !== (v.freeCritical === undefined)) {
      const [present, missing] = v.freeWarning === undefined ? ['freeCritical', 'freeWarning'] : ['freeWarning', 'freeCritical'];
      ctx.addIssue({ code: 'custom', path: [present], message: `set ${missing} too: the two levels go together (without them, the datastoreFree levels of the alerts section apply)` });
    } else if (v.freeWarning !== undefined && v.freeCritical !== undefined && !(v.freeWarning > v.freeCritical)) {
      ctx.addIssue({ code: 'custom', path: ['freeCritical'], message: `freeCritical (${v.freeCritical}%) must be below freeWarning (${v.freeWarning}%): free space, lower is worse` });
    }
  });

export const clusterPolicySchema = z.strictObject({
  kind: z.literal('ClusterPolicy'),
  cluster: z.string().min(1).default('*'),
  fencing: z.enum(FENCING_MODES).optional(),
  /** Datastore thresholds, the response to storage loss, replication (docs/storage.md). */
  storage: storagePolicySchema.optional(),
  admission: z
    .strictObject({
      /** Keep enough headroom to restart every restartable VM after this many host failures. */
      tolerateHostFailures: z.number().int().min(0).max(64).optional(),
      /** Keep this share of the cluster's CPU and memory free for failover (vSphere's percentage admission control). */
      reservePercent: z.strictObject({ cpu: percent.optional(), memory: percent.optional() }).optional(),
      /** Dedicated failover hosts (active/standby): kept empty of planned placements, used first by restarts. */
      failoverHosts: z.array(glob).optional(),
    })
    .optional(),
  overcommit: z
    .strictObject({
      cpu: z.number().positive().max(64).optional(),
      memory: z.number().positive().max(4).optional(),
    })
    .optional(),
  /** Planned rebalancing (`vigil rebalance`, and the service's own when `auto`); see src/policy/rebalance-rules.ts. */
  rebalance: z
    .strictObject({
      auto: z.boolean().optional(),
      threshold: z.number().min(1, 'must be at least 1 (percentage point)').max(50, 'must be at most 50 (percentage points)').optional(),
      interval: duration(60_000).optional(),
      maxMoves: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').optional(),
    })
    .optional(),
});

/** `after:` entries: a VM name glob, or `policy:NAME` for every VM a VmPolicy decides. */
const afterEntry = z.string().min(1);

export const vmPolicySchema = z.strictObject({
  kind: z.literal('VmPolicy'),
  name: z.string().min(1),
  cluster: z.string().min(1).default('*'),
  match: z
    .strictObject({
      names: z.array(glob).optional(),
      labels: labels.optional(),
    })
    .default({}),
  restart: z
    .strictObject({
      priority: z.enum(PRIORITIES as [string, ...string[]]).optional(),
      /** Start only once these VMs run again (restart orchestration)... */
      after: z.array(afterEntry).optional(),
      /** ...or once this much time has passed, whichever comes first. */
      afterTimeout: duration(0).optional(),
      /** Restart attempts before Vigil gives up and asks for a person. */
      maxAttempts: z.number().int().min(1).max(20).optional(),
      /** Wait before the second attempt; doubled for each further one. */
      retryDelay: duration(0).optional(),
      /** Overrides the cluster's fencing mode for these VMs. */
      fencing: z.enum(FENCING_MODES).optional(),
    })
    .optional(),
  placement: z
    .strictObject({
      antiAffinityGroup: z.string().min(1).optional(),
      /** VMs sharing an affinity group are kept on one host when possible (soft). */
      affinityGroup: z.string().min(1).optional(),
      requireHostLabels: labels.optional(),
      /** Hosts with these labels are preferred (soft). */
      preferHostLabels: labels.optional(),
      /** Never place on hosts whose names match these globs. */
      avoidHosts: z.array(glob).optional(),
    })
    .optional(),
  /** Overrides the cluster's storage.rpo and storage.acceptDataLoss for these VMs. */
  replication: z.strictObject(replicationShape).optional(),
});

export type ClusterPolicyDoc = z.infer<typeof clusterPolicySchema>;
export type VmPolicyDoc = z.infer<typeof vmPolicySchema>;

export const POLICY_KINDS = ['ClusterPolicy', 'VmPolicy'] as const;
