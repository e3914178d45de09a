/**
 * The `alerts:` section of vigil.yaml. Secrets (tokens, HMAC keys, webhook
 * URLs that carry a key, SMTP passwords) come through `${env:}`/`${file:}`;
 * nothing here is ever logged. Every key is in docs/alerts.md.
 */
import { z } from 'zod';
import { duration } from '../config/types.js';
import { ALERT_KINDS, SEVERITIES } from './alert.js';

const percent = z.number().min(0).max(1000);

function levels(direction: 'above' | 'below', d: { warning: number; critical: number; margin: number; for: number }) {
  return z
    .strictObject({
      enabled: z.boolean().default(true),
      /** null turns that level off. */
      warning: percent.nullable().default(d.warning),
      critical: percent.nullable().default(d.critical),
      /** Percentage points back past a level before it clears. */
      margin: z.number().min(0).max(100).default(d.margin),
      /** How long a value must stay across a level before it fires. */
      for: duration().default(d.for),
    })
    .superRefine((v, ctx) => {
      if (v.warning === null || v.critical === null) return;
      const ordered = direction === 'above' ? v.warning < v.critical : v.warning > v.critical;
      if (!ordered) ctx.addIssue({ code: 'custom', path: ['critical'], message: direction === 'above' ? 'critical must be above warning' : 'critical must be below warning (free space: lower is worse)' });
    })
    .default({ enabled: true, warning: d.warning, critical: d.critical, margin: d.margin, for: d.for });
}

const HOST_CPU = { warning: 85, critical: 95, margin: 5, for: 300_000 };
const HOST_MEMORY = { warning: 85, critical: 95, margin: 5, for: 300_000 };
/** Percent free at or under which a datastore is a warning / critical: also the storage findings' default (src/storage/assess.ts). */
export const DATASTORE_FREE = { warning: 15, critical: 5, margin: 5, for: 300_000 };

export const thresholdsSchema = z
  .strictObject({
    /** Percent of the host's CPU in use (measured when the provider reports it, else allocated vCPUs over logical CPUs). */
    hostCpu: levels('above', HOST_CPU),
    /** Percent of the host's memory in use (measured when reported, else allocated to running VMs). */
    hostMemory: levels('above', HOST_MEMORY),
    /** Percent of a datastore's capacity that is free; fires when it falls to a level. */
    datastoreFree: levels('below', DATASTORE_FREE),
  })
  .default({
    hostCpu: { enabled: true, ...HOST_CPU },
    hostMemory: { enabled: true, ...HOST_MEMORY },
    datastoreFree: { enabled: true, ...DATASTORE_FREE },
  });

const retrySchema = z
  .strictObject({
    /** Attempts in all, the first included. */
    attempts: z.number().int().min(1).max(20).default(5),
    minDelay: duration().default(1_000),
    maxDelay: duration().default(60_000),
  })
  .refine((r) => r.maxDelay >= r.minDelay, { message: 'maxDelay must not be below minDelay', path: ['maxDelay'] })
  .default({ attempts: 5, minDelay: 1_000, maxDelay: 60_000 });

/** Keys every receiver takes: its name, what it accepts, and how hard delivery tries. */
const receiverBase = {
  name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
  /** Severities it takes; default all. A resolved notice goes where its firing one went. */
  severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
  /** Alert kinds it takes; default all. */
  kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
  /** Clusters it takes alerts of; default all. */
  clusters: z.array(z.string().min(1)).min(1).optional(),
  sendResolved: z.boolean().default(true),
  /** One delivery attempt gives up after this long. */
  timeout: duration(100).default(10_000),
  retry: retrySchema,
  /** Notifications waiting for this receiver; beyond it the oldest is dropped (logged and counted). */
  queueSize: z.number().int().min(1).max(100_000).default(100),
};

const httpsOptions = {
  /** PEM file of the CA (or the certificate itself) to trust for this receiver's TLS; relative to the config file. */
  caFile: z.string().min(1).optional(),
  /** Skip certificate verification. Only on request, and logged as a warning. */
  insecure: z.boolean().default(false),
};

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const webhookReceiverSchema = z
  .strictObject({
    ...receiverBase,
    type: z.literal('webhook'),
    url,
    /** Sent as `Authorization: Bearer <token>`. */
    bearerToken: z.string().min(1).optional(),
    /** Signs each body: `X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`, timestamp in `X-Vigil-Timestamp`. */
    hmacSecret: z.string().min(1).optional(),
    /** Extra headers (their values are treated as secrets). */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), z.string()).optional(),
    ...httpsOptions,
  })
  .refine((r) => !(r.bearerToken && r.hmacSecret), { message: 'use bearerToken or hmacSecret, not both', path: ['hmacSecret'] });

export const slackReceiverSchema = z.strictObject({
  ...receiverBase,
  type: z.literal('slack'),
  /** The incoming-webhook URL (it is a secret: pass it with ${env:} or ${file:}). */
  url,
  ...httpsOptions,
});

export const teamsReceiverSchema = z.strictObject({
  ...receiverBase,
  type: z.literal('teams'),
  /** The Teams Workflows ("When a Teams webhook request is received") or incoming-webhook URL (a secret). */
  url,
  ...httpsOptions,
});

export const emailReceiverSchema = z
  .strictObject({
    ...receiverBase,
    type: z.literal('email'),
    host: z.string().min(1),
    /** Default 587 for starttls, 465 for tls, 25 for none. */
    port: z.number().int().min(1).max(65535).optional(),
    /** starttls: plain connection upgraded, and refused if the server cannot. tls: TLS from the start. none: no encryption (local relays only; no password allowed). */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    /** Put before each subject. */
    subjectPrefix: z.string().default('[Vigil]'),
    /** The name the server's certificate must carry, when it differs from `host`. */
    servername: z.string().min(1).optional(),
    ...httpsOptions,
  })
  .superRefine((r, ctx) => {
    if (r.password && r.security === 'none') ctx.addIssue({ code: 'custom', path: ['password'], message: 'a password is never sent over an unencrypted connection: use security starttls or tls' });
    if (r.password && !r.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'password needs a username' });
  });

export const receiverSchema = z.discriminatedUnion('type', [webhookReceiverSchema, slackReceiverSchema, teamsReceiverSchema, emailReceiverSchema]);

export const alertsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** How often thresholds are evaluated and alerts are checked against the status report. */
    evaluateEvery: duration(100).default(15_000),
    /** Generic controller alerts (no clearing signal) are resolved after this long without a repeat. */
    staleAfter: duration(1_000).default(3_600_000),
    /** On stop, how long queued notifications may still take to go out before they are counted as dropped. */
    drainTimeout: duration().default(5_000),
    thresholds: thresholdsSchema,
    receivers: z.array(receiverSchema).default([]),
  })
  .superRefine((a, ctx) => {
    const seen = new Set<string>();
    a.receivers.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['receivers', i, 'name'], message: `receiver "${r.name}" is named twice` });
      seen.add(r.name);
    });
  });

export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
export type ReceiverConfig = z.infer<typeof receiverSchema>;
export type WebhookReceiverConfig = z.infer<typeof webhookReceiverSchema>;
export type SlackReceiverConfig = z.infer<typeof slackReceiverSchema>;
export type TeamsReceiverConfig = z.infer<typeof teamsReceiverSchema>;
export type EmailReceiverConfig = z.infer<typeof emailReceiverSchema>;
export type ThresholdsConfig = z.infer<typeof thresholdsSchema>;
