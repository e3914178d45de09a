/**
 * Fencing agents in vigil.yaml: the schema of one entry (a union on
 * `type`), the factory that builds its FenceAgent, and the choice of the
 * agents that fence a given host. The lead puts `fencingAgentsSchema` under
 * a cluster's `fencing.agents`. Secrets arrive already substituted by the
 * config loader (`${env:…}`, `${file:…}`); nothing here prints them, and no
 * validation message quotes a value.
 *
 *   fencing:
 *     agents:
 *       - type: redfish
 *         hosts: ["esx-*"]
 *         url: https://{host}-bmc.example.com
 *         username: fence
 *         password: ${env:BMC_PASSWORD}
 *         caFile: ./certs/bmc-ca.pem
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { duration } from '../config/types.js';
import { IpmiAgent } from './ipmi.js';
import { RedfishAgent } from './redfish.js';
import { isHttpUrlTemplate } from './template.js';
import { isFingerprint } from './tls.js';
import type { FenceAgent, FenceContext, HttpTransport } from './types.js';

const hostGlobs = z
  .array(z.string().min(1).regex(/^[^\s]+$/, 'a host name or a glob such as "esx-*", without spaces'))
  .min(1, 'name at least one host or glob, or leave hosts out to fence every host')
  .default(['*']);

const common = {
  /** A label for logs and status (default: the type and endpoint). */
  name: z.string().min(1).optional(),
  /** Globs of the host names this agent fences (`*`, `?`; case-insensitive). Default: every host. */
  hosts: hostGlobs,
  username: z.string().min(1, 'is required'),
  password: z.string().min(1, 'is required'),
  pollInterval: duration(50).default(1_000),
  powerOffTimeout: duration(1_000).default(60_000),
};

export const redfishAgentSchema = z
  .strictObject({
    type: z.literal('redfish'),
    ...common,
    /** Base URL of the BMC, with {host} and {address}: `https://{host}-bmc.example.com`, `http://127.0.0.1:9090/lab/redfish/{host}`. */
    url: z.string().refine(isHttpUrlTemplate, 'must be an http:// or https:// URL (without user:password@), optionally with {host} or {address}'),
    /** The ComputerSystem under the URL, e.g. /redfish/v1/Systems/1; default: the only member of /redfish/v1/Systems. */
    systemPath: z.string().regex(/^\/\S*$/, 'must be a path starting with /, such as /redfish/v1/Systems/1').optional(),
    auth: z.enum(['basic', 'session']).default('basic'),
    caFile: z.string().min(1).optional(),
    fingerprint: z.string().refine(isFingerprint, 'must be a SHA-256 certificate fingerprint: 64 hex digits, with or without colons').optional(),
    insecure: z.boolean().default(false),
    requestTimeout: duration(100).default(10_000),
  })
  .superRefine((e, ctx) => {
    const tls = [e.caFile !== undefined && 'caFile', e.fingerprint !== undefined && 'fingerprint', e.insecure && 'insecure'].filter(Boolean);
    if (tls.length > 1) ctx.addIssue({ code: 'custom', path: [tls[1] as string], message: `use only one of caFile, fingerprint and insecure (found ${tls.join(' and ')})` });
    if (tls.length > 0 && !e.url.startsWith('https://')) ctx.addIssue({ code: 'custom', path: [tls[0] as string], message: 'TLS options need an https:// url' });
  });

export const ipmiAgentSchema = z
  .strictObject({
    type: z.literal('ipmi'),
    ...common,
    /** The BMC's host name or IP address, with {host} and {address}: `{host}-ipmi.example.com`, `{address}`. */
    address: z.string().regex(/^[^\s/]+$/, 'a host name or IP address (optionally with {host} or {address}), without spaces or slashes'),
    port: z.number().int().min(1).max(65_535).optional(),
    /** The ipmitool executable: a name on PATH, or a path (relative to the config file). */
    ipmitool: z.string().min(1).default('ipmitool'),
    interface: z.enum(['lanplus', 'lan']).default('lanplus'),
    cipherSuite: z.number().int().min(0).max(17).optional(),
    privilege: z.enum(['USER', 'OPERATOR', 'ADMINISTRATOR']).optional(),
    /** Limit on each ipmitool run. */
    commandTimeout: duration(1_000).default(20_000),
    /** ipmitool's own wait per attempt (-N, whole seconds) and its retries (-R). */
    lanTimeout: duration(1_000).optional(),
    lanRetries: z.number().int().min(0).max(10).optional(),
  })
  .superRefine((e, ctx) => {
    // IPMI passwords are at most 20 bytes (16 over IPMI 1.5 "lan"); ipmitool would refuse a longer one at fence time.
    const max = e.interface === 'lan' ? 16 : 20;
    if (Buffer.byteLength(e.password, 'utf8') > max) ctx.addIssue({ code: 'custom', path: ['password'], message: `IPMI passwords are at most ${max} bytes over ${e.interface}` });
  });

export const fenceAgentSchema = z.discriminatedUnion('type', [redfishAgentSchema, ipmiAgentSchema]);
export const fencingAgentsSchema = z.array(fenceAgentSchema);

export type RedfishAgentEntry = z.infer<typeof redfishAgentSchema>;
export type IpmiAgentEntry = z.infer<typeof ipmiAgentSchema>;
export type FenceAgentEntry = z.infer<typeof fenceAgentSchema>;

/** Builds the agent of one entry. `transport` replaces real HTTP for a Redfish agent (the lab in memory, tests). */
export function createFenceAgent(entry: FenceAgentEntry, ctx: FenceContext, transport?: HttpTransport): FenceAgent {
  if (entry.type === 'redfish') {
    return new RedfishAgent(
      {
        url: entry.url,
        ...(entry.systemPath !== undefined ? { systemPath: entry.systemPath } : {}),
        username: entry.username,
        password: entry.password,
        auth: entry.auth,
        tls: {
          ...(entry.caFile !== undefined ? { caFile: entry.caFile } : {}),
          ...(entry.fingerprint !== undefined ? { fingerprint: entry.fingerprint } : {}),
          insecure: entry.insecure,
        },
        requestTimeoutMs: entry.requestTimeout,
        pollIntervalMs: entry.pollInterval,
        powerOffTimeoutMs: entry.powerOffTimeout,
      },
      ctx,
      transport,
    );
  }
  const tool = entry.ipmitool.includes('/') && !isAbsolute(entry.ipmitool) ? resolve(ctx.baseDir, entry.ipmitool) : entry.ipmitool;
  return new IpmiAgent(
    {
      address: entry.address,
      ...(entry.port !== undefined ? { port: entry.port } : {}),
      username: entry.username,
      password: entry.password,
      ipmitool: tool,
      interface: entry.interface,
      ...(entry.cipherSuite !== undefined ? { cipherSuite: entry.cipherSuite } : {}),
      ...(entry.privilege !== undefined ? { privilege: entry.privilege } : {}),
      ...(entry.lanTimeout !== undefined ? { lanTimeoutSeconds: Math.max(1, Math.ceil(entry.lanTimeout / 1_000)) } : {}),
      ...(entry.lanRetries !== undefined ? { lanRetries: entry.lanRetries } : {}),
      commandTimeoutMs: entry.commandTimeout,
      pollIntervalMs: entry.pollInterval,
      powerOffTimeoutMs: entry.powerOffTimeout,
    },
    ctx,
  );
}

export interface ConfiguredFenceAgent {
  /** For logs and status: the entry's name, or its type and endpoint. No secrets. */
  readonly label: string;
  readonly hosts: readonly string[];
  readonly agent: FenceAgent;
}

/** Builds every entry's agent once (one HTTP transport, one TLS setup and one insecure warning per entry). */
export function createFenceAgents(entries: readonly FenceAgentEntry[], ctx: FenceContext, transport?: HttpTransport): ConfiguredFenceAgent[] {
  return entries.map((entry) => ({
    label: entry.name ?? `${entry.type} ${entry.type === 'redfish' ? entry.url : entry.address}`,
    hosts: entry.hosts,
    agent: createFenceAgent(entry, ctx, transport),
  }));
}

/** The agents whose `hosts` globs match the host, in configuration order (the first is tried first). */
export function agentsForHost<T extends { readonly hosts: readonly string[] }>(agents: readonly T[], host: string): T[] {
  return agents.filter((a) => a.hosts.some((glob) => hostMatches(glob, host)));
}

/** `*` is any run of characters, `?` any one; everything else is literal; case is ignored (host names are DNS names). */
export function hostMatches(glob: string, host: string): boolean {
  const pattern = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`, 'i').test(host);
}
