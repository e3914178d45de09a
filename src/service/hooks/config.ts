/**
 * `controller.webhook` in vigil.yaml: the keys interfaces.md names
 * (tokenFile, hmacSecretFile) and the limits. The service reads the secret
 * files once at start (and on reload); their values never reach a log or an
 * error message. A file may hold several non-empty lines: each is accepted,
 * so a secret can be rotated without refusing senders mid-way.
 */
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { duration } from '../../config/types.js';
import { ErrorCodes, VigilError } from '../../errors.js';
import { DEFAULT_LIMITS, DEFAULT_REPLAY_WINDOW_MS, type HookAuthSettings, type HookLimits } from './types.js';

export const webhookConfigSchema = z
  .strictObject({
    /** File holding the Bearer token(s), one per line. */
    tokenFile: z.string().min(1).optional(),
    /** File holding the HMAC-SHA256 secret(s), one per line. */
    hmacSecretFile: z.string().min(1).optional(),
    /** The token itself, for `${env:NAME}` substitution (containers). */
    token: z.string().min(1).optional(),
    /** The HMAC secret itself, for `${env:NAME}` substitution. */
    hmacSecret: z.string().min(1).optional(),
    /** Refuse signatures without X-Vigil-Timestamp (the body-only form interfaces.md first described). */
    requireTimestamp: z.boolean().default(false),
    /** How far X-Vigil-Timestamp may be from now; exact replays inside it are refused. */
    replayWindow: duration(1_000).default(DEFAULT_REPLAY_WINDOW_MS),
    /** Also accept the token as `?token=` on the hook URL, for senders that cannot set headers (VEBA's Knative broker). */
    allowQueryToken: z.boolean().default(false),
    /** Accept hooks without credentials when none are configured. Labs only. */
    allowUnauthenticated: z.boolean().default(false),
    rateLimit: z
      .strictObject({
        perSecond: z.number().positive().max(1_000_000).default(DEFAULT_LIMITS.ratePerSecond),
        burst: z.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.rateBurst),
      })
      .default({ perSecond: DEFAULT_LIMITS.ratePerSecond, burst: DEFAULT_LIMITS.rateBurst }),
    /** How long the same event (CloudEvent id, vCenter Key, Proxmox notification) is collapsed into the first. */
    duplicateWindow: duration(0).default(DEFAULT_LIMITS.duplicateWindowMs),
    /** At most one hint per cluster, host and kind in this interval. */
    hintInterval: duration(0).default(DEFAULT_LIMITS.hintIntervalMs),
  })
  .refine((c) => !(c.allowUnauthenticated && (c.tokenFile || c.hmacSecretFile || c.token || c.hmacSecret)), {
    message: 'allowUnauthenticated cannot be combined with a token or an HMAC secret',
    path: ['allowUnauthenticated'],
  });

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export interface WebhookSettings {
  readonly auth: HookAuthSettings;
  readonly limits: Partial<HookLimits>;
  /** Things an operator should hear about at start (weak secrets, no credentials). */
  readonly warnings: readonly string[];
}

const WEAK_SECRET_CHARS = 16;

/** Reads the secret files (relative to `baseDir`) and turns the config into `registerHooks` settings. */
export async function webhookSettings(config: WebhookConfig, baseDir: string): Promise<WebhookSettings> {
  const tokens = [...(config.token ? [config.token] : []), ...(config.tokenFile ? await secretLines(config.tokenFile, baseDir, 'tokenFile') : [])];
  const hmacSecrets = [...(config.hmacSecret ? [config.hmacSecret] : []), ...(config.hmacSecretFile ? await secretLines(config.hmacSecretFile, baseDir, 'hmacSecretFile') : [])];
  const warnings: string[] = [];
  if (tokens.some((t) => t.length < WEAK_SECRET_CHARS)) warnings.push(`a webhook token is shorter than ${WEAK_SECRET_CHARS} characters`);
  if (hmacSecrets.some((s) => s.length < WEAK_SECRET_CHARS)) warnings.push(`a webhook HMAC secret is shorter than ${WEAK_SECRET_CHARS} characters`);
  if (!tokens.length && !hmacSecrets.length) {
    warnings.push(
      config.allowUnauthenticated
        ? 'webhooks accept requests without credentials (controller.webhook.allowUnauthenticated)'
        : 'no webhook token or HMAC secret is configured: every hook will be refused with 401',
    );
  }
  return {
    auth: { tokens, hmacSecrets, requireTimestamp: config.requireTimestamp, allowQueryToken: config.allowQueryToken, replayWindowMs: config.replayWindow, allowUnauthenticated: config.allowUnauthenticated },
    limits: { ratePerSecond: config.rateLimit.perSecond, rateBurst: config.rateLimit.burst, duplicateWindowMs: config.duplicateWindow, hintIntervalMs: config.hintInterval },
    warnings,
  };
}

async function secretLines(file: string, baseDir: string, key: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(resolvePath(baseDir, file), 'utf8');
  } catch (e) {
    throw new VigilError(ErrorCodes.CONFIG_SECRET, `cannot read controller.webhook.${key} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`, { expected: true });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) throw new VigilError(ErrorCodes.CONFIG_SECRET, `controller.webhook.${key} ${file} is empty`, { expected: true });
  return lines;
}
