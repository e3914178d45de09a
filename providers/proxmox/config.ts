/**
 * The keys of a `provider: proxmox` cluster entry. Checked once at load
 * time; everything after this trusts the parsed shape.
 */
import { z } from 'zod';
import { clusterBaseShape, duration } from '../../src/config/schema.js';

/** SHA-256 fingerprint as Proxmox shows it (`AA:BB:...`, 32 bytes); colons and case are optional. */
export const tlsFingerprint = z
  .string()
  .transform((s) => s.replace(/:/g, '').toLowerCase())
  .refine((s) => /^[0-9a-f]{64}$/.test(s), 'must be a SHA-256 fingerprint such as AB:CD:...:EF (32 bytes, as Proxmox shows it)');

/** An SSH host key fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
const sshFingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be an SSH host key fingerprint such as SHA256:abc... (ssh-keygen -lf)');

const sshSchema = z
  .strictObject({
    /** Address per node name; by default the node's `ip` from /cluster/status. */
    hosts: z.record(z.string(), z.string().min(1)).optional(),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1).default('root'),
    privateKeyFile: z.string().min(1),
    passphrase: z.string().min(1).optional(),
    /** Host keys are always checked: against this known_hosts file, or the pinned fingerprints below. */
    knownHostsFile: z.string().min(1).optional(),
    hostKeyFingerprints: z.array(sshFingerprint).min(1).optional(),
    /** Where the cluster file system is mounted on the nodes; only tests change it. */
    pveRoot: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, ".", "_", "-" and "/"').default('/etc/pve'),
    /** The `ha-manager` command on the nodes (node maintenance is CLI-only in Proxmox VE). */
    haManager: z.string().regex(/^\/?[A-Za-z0-9._/-]+$/, 'must be a command name or absolute path').default('ha-manager'),
    timeout: duration(1000).default(20_000),
  })
  .refine((s) => s.knownHostsFile !== undefined || s.hostKeyFingerprints !== undefined, {
    message: 'give knownHostsFile or hostKeyFingerprints: Vigil never accepts an unknown SSH host key',
    path: ['knownHostsFile'],
  });

export const proxmoxConfigSchema = z
  .strictObject({
    ...clusterBaseShape,
    provider: z.literal('proxmox'),
    /** Any node's API, such as https://pve1.example:8006. */
    url: z.url({ protocol: /^https?$/ }),
    /** Further nodes' APIs, tried in order when the current one does not answer or is not quorate. */
    fallbackUrls: z.array(z.url({ protocol: /^https?$/ })).optional(),
    /** API token (USER@REALM!TOKENID) and its secret, or a user and password (ticket login). */
    tokenId: z.string().regex(/^[^@\s]+@[^!\s]+![A-Za-z0-9._-]+$/, 'must look like USER@REALM!TOKENID').optional(),
    tokenSecret: z.string().min(1).optional(),
    username: z.string().regex(/^[^@\s]+@[^\s]+$/, 'must look like USER@REALM (root@pam)').optional(),
    password: z.string().min(1).optional(),
    /** PEM file of the CA (or the self-signed certificate) that signed the API's certificate. */
    caFile: z.string().min(1).optional(),
    /** SHA-256 fingerprint of the API's certificate, pinned (what the node's Certificates panel shows). */
    fingerprint: tlsFingerprint.optional(),
    /** Skip certificate checks altogether. Only on request; Vigil logs a warning every start. */
    insecure: z.boolean().default(false),
    /** Per API call. */
    timeout: duration(500).default(30_000),
    /** How guests outside Proxmox HA are recovered after a node failure (see docs/providers/proxmox.md). */
    recovery: z.enum(['native', 'direct']).default('native'),
    ssh: sshSchema.optional(),
    /** How often per-node storage content and replication status are re-read (they change slowly; pvesr runs at most every minute). */
    slowRefresh: duration(1000).default(60_000),
  })
  .refine((c) => (c.tokenId === undefined) === (c.tokenSecret === undefined), { message: 'tokenId and tokenSecret go together', path: ['tokenSecret'] })
  .refine((c) => (c.username === undefined) === (c.password === undefined), { message: 'username and password go together', path: ['password'] })
  .refine((c) => (c.tokenId !== undefined) !== (c.username !== undefined), { message: 'give either tokenId/tokenSecret or username/password', path: ['tokenId'] })
  .refine((c) => [c.caFile, c.fingerprint, c.insecure || undefined].filter((x) => x !== undefined).length <= 1, {
    message: 'give at most one of caFile, fingerprint and insecure',
    path: ['insecure'],
  })
  .refine((c) => c.recovery !== 'direct' || c.ssh !== undefined, { message: 'recovery: direct moves guest configs over SSH: give ssh', path: ['ssh'] });

export type ProxmoxClusterConfig = z.infer<typeof proxmoxConfigSchema>;
export type SshConfig = NonNullable<ProxmoxClusterConfig['ssh']>;
