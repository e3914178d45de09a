/** vigil.yaml, as a schema (interfaces.md "Configuration"). Provider-specific keys are checked by each provider's own schema. */
import { z } from 'zod';
import { parseDuration } from '../clock/duration.js';
import { parseListen } from './listen.js';

/** A duration written as text (`10s`, `2m`), parsed to milliseconds. */
export function duration(min = 0): z.ZodType<number> {
  return z
    .string()
    .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as 500ms, 10s or 2m')
    .transform((s) => parseDuration(s) as number)
    .refine((ms) => ms >= min, `must be at least ${min}ms`);
}

export const listenAddress = z.string().refine((s) => parseListen(s) !== undefined, 'must be host:port, such as 127.0.0.1:8080');

/** Keys every cluster entry may carry, whatever its provider. */
export const clusterBaseShape = {
  name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
  provider: z.string().min(1),
  /** Overrides controller.pollInterval for this cluster. */
  pollInterval: duration(100).optional(),
  /** Overrides controller.mode for this cluster. */
  mode: z.enum(['enforce', 'observe']).optional(),
};

export const clusterEntrySchema = z.looseObject({ name: clusterBaseShape.name, provider: clusterBaseShape.provider });

export const controllerSchema = z.strictObject({
  mode: z.enum(['enforce', 'observe']).default('enforce'),
  pollInterval: duration(100).default(10_000),
  listen: listenAddress.default('127.0.0.1:8080'),
  stateDir: z.string().min(1).default('./var/vigil'),
  webhook: z
    .strictObject({
      tokenFile: z.string().min(1).optional(),
      hmacSecretFile: z.string().min(1).optional(),
    })
    .default({}),
  detection: z
    .strictObject({
      /** Consecutive polls a host must be seen not responding before it is failed. */
      failAfterPolls: z.number().int().min(1).max(100).default(3),
    })
    .default({ failAfterPolls: 3 }),
  execution: z
    .strictObject({
      maxParallel: z.number().int().min(1).max(256).default(8),
      taskTimeout: duration(1000).default(600_000),
      taskPollInterval: duration(50).default(1_000),
      retries: z.number().int().min(0).max(10).default(2),
    })
    .default({ maxParallel: 8, taskTimeout: 600_000, taskPollInterval: 1_000, retries: 2 }),
});

export const configSchema = z.strictObject({
  controller: controllerSchema.default(controllerSchema.parse({})),
  state: z.strictObject({ etcd: z.record(z.string(), z.unknown()).optional() }).optional(),
  policies: z.string().min(1).optional(),
  /** Each entry is checked on its own (common keys, then its provider's keys), so every problem is reported. */
  clusters: z.array(z.unknown()).min(1, 'name at least one cluster'),
});

export type ControllerConfig = z.infer<typeof controllerSchema>;
export type RawConfig = z.infer<typeof configSchema>;
