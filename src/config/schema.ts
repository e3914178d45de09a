/** vigil.yaml, as a schema (interfaces.md "Configuration"). Provider-specific keys are checked by each provider's own schema. */
import { z } from 'zod';
import { duration, listenAddress } from './types.js';
import { fencingAgentsSchema } from '../fence/agent-config.js';
import { webhookConfigSchema } from '../service/hooks/config.js';
import { alertsConfigSchema } from '../alerts/config.js';
import { etcdConfigSchema } from '../state/etcd/config.js';

export { duration, listenAddress };


/** Keys every cluster entry may carry, whatever its provider. */
export const clusterBaseShape = {
  name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
  provider: z.string().min(1),
  /** Overrides controller.pollInterval for this cluster. */
  pollInterval: duration(100).optional(),
  /** Overrides controller.mode for this cluster. */
  mode: z.enum(['enforce', 'observe']).optional(),
  /** How this cluster's hosts are proven off before their VMs restart elsewhere (docs/fencing.md). */
  fencing: z.strictObject({ agents: fencingAgentsSchema.default([]) }).optional(),
};

export const clusterEntrySchema = z.looseObject({ name: clusterBaseShape.name, provider: clusterBaseShape.provider });

export const controllerSchema = z.strictObject({
  mode: z.enum(['enforce', 'observe']).default('enforce'),
  pollInterval: duration(100).default(10_000),
  /** Each poll waits pollInterval +/- this share of it, so clusters do not poll in lockstep. */
  pollJitter: z.number().min(0).max(0.5).default(0.1),
  listen: listenAddress.default('127.0.0.1:8080'),
  stateDir: z.string().min(1).default('./var/vigil'),
  /** Webhook receivers and the control routes: credentials, limits (docs/webhooks.md). */
  webhook: webhookConfigSchema.default(webhookConfigSchema.parse({})),
  detection: z
    .strictObject({
      /** Consecutive polls with the manager and the probe agreeing a host is down before it is failed. */
      failAfterPolls: z.number().int().min(1).max(100).default(2),
      /** ...spanning at least this long (default: pollInterval x (failAfterPolls - 1)). */
      minDown: duration(0).optional(),
      /** With an alarm hint for the host, this shorter span suffices (default 2s, at most minDown). */
      hintMinDown: duration(0).optional(),
      /** Polls a failed host must answer on before it is trusted again. */
      recoverAfterPolls: z.number().int().min(1).max(100).default(2),
      probe: z
        .strictObject({
          /** TCP port of the hosts' management interface, for hosts whose provider reports an address (443: ESXi, 8006: Proxmox, 5985: WinRM). */
          port: z.number().int().min(1).max(65535).optional(),
          timeout: duration(50).default(2_000),
        })
        .default({ timeout: 2_000 }),
      flapping: z
        .strictObject({
          transitions: z.number().int().min(2).default(3),
          window: duration(1_000).default(600_000),
          quarantine: duration(0).default(1_800_000),
        })
        .default({ transitions: 3, window: 600_000, quarantine: 1_800_000 }),
    })
    .default({ failAfterPolls: 2, recoverAfterPolls: 2, probe: { timeout: 2_000 }, flapping: { transitions: 3, window: 600_000, quarantine: 1_800_000 } }),
  /** The mass-failure guard: more hosts down within the window than this freezes the cluster. */
  guard: z
    .strictObject({
      maxFailures: z.union([z.number().int().min(1), z.string().regex(/^\d{1,2}%$/, 'a number of hosts or a percentage such as "40%"')]).default('40%'),
      window: duration(1_000).default(300_000),
    })
    .default({ maxFailures: '40%', window: 300_000 }),
  execution: z
    .strictObject({
      maxParallel: z.number().int().min(1).max(256).default(8),
      taskTimeout: duration(1000).default(600_000),
      taskPollInterval: duration(50).default(1_000),
      retries: z.number().int().min(0).max(10).default(2),
      /**
       * After a crash, how long an action the journal shows as begun but
       * unfinished may take to show its effect on the platform before it is
       * planned again (default: two poll intervals, at least 15 s). Longer is
       * safer; shorter brings VMs back sooner after a controller crash.
       */
      orphanGrace: duration(0).optional(),
    })
    .default({ maxParallel: 8, taskTimeout: 600_000, taskPollInterval: 1_000, retries: 2 }),
});

export const configSchema = z.strictObject({
  controller: controllerSchema.default(controllerSchema.parse({})),
  /** Replicated mode: leader election and the journal in etcd (docs/replicas.md); without it, one process and stateDir. */
  state: z.strictObject({ etcd: etcdConfigSchema.optional() }).optional(),
  policies: z.string().min(1).optional(),
  /** Outgoing alerts: receivers and thresholds (docs/alerts.md). */
  alerts: alertsConfigSchema.default(alertsConfigSchema.parse({})),
  /** Each entry is checked on its own (common keys, then its provider's keys), so every problem is reported. */
  clusters: z.array(z.unknown()).min(1, 'name at least one cluster'),
});

export type ControllerConfig = z.infer<typeof controllerSchema>;
export type RawConfig = z.infer<typeof configSchema>;
