/**
 * The keys of a `provider: hyperv` cluster entry. A Failover Cluster is
 * named by `cluster:` (reached through `nodes:` or the cluster name); a set
 * of standalone hosts by `hosts:`. Secrets come through `${env:...}` or
 * `${file:...}` like everywhere in vigil.yaml.
 */
import { z } from 'zod';
import { clusterBaseShape, duration } from '../../src/config/schema.js';

const hostName = z.string().min(1).max(255).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'a host or cluster name: letters, digits, "." and "-"');

export const hypervConfigSchema = z
  .strictObject({
    ...clusterBaseShape,
    provider: z.literal('hyperv'),
    /** Failover Cluster name (cluster mode). */
    cluster: hostName.optional(),
    /** Cluster nodes to reach the cluster through, tried in order (default: the cluster name). */
    nodes: z.array(hostName).min(1).optional(),
    /** Standalone Hyper-V hosts (no cluster). */
    hosts: z.array(hostName).min(1).optional(),
    /** SMB shares holding standalone hosts' VMs (\\server\share), checked from every host. */
    sharedStorage: z.array(z.string().regex(/^\\\\[^\\]+\\[^\\]+/, 'a UNC path such as \\\\fs1\\vms')).optional(),
    /** How the controller's PowerShell reaches the hosts: WinRM (WS-Management) or SSH remoting. */
    transport: z.enum(['wsman', 'ssh']).default('wsman'),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** WinRM authentication mechanism (CredSSP is one way to let live migration reach the other host). */
    authentication: z.enum(['Default', 'Kerberos', 'Negotiate', 'CredSSP']).optional(),
    /** WinRM over HTTPS (port 5986); the host's certificate is verified unless `insecure: true`. */
    useSsl: z.boolean().default(false),
    insecure: z.boolean().default(false),
    port: z.number().int().min(1).max(65535).optional(),
    /** SSH private key for SSH remoting. */
    keyFile: z.string().min(1).optional(),
    powershell: z
      .strictObject({
        /** `pwsh` (Linux, PowerShell 7) or `powershell` (Windows PowerShell 5.1), or a path. */
        executable: z.string().min(1).default('pwsh'),
        /** Arguments put before PowerShell's own (-NoProfile ... -Command -); for wrappers such as the tests' stand-in. */
        arguments: z.array(z.string()).default([]),
        /** Extra environment variables for the PowerShell process (PSModulePath, a proxy, the tests' stand-in address). */
        environment: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
        /** Longest a single invocation may take before the session is disposed and replaced. */
        invocationTimeout: duration(1000).default(120_000),
        /** WinRM connection-open and operation timeouts inside PowerShell. */
        openTimeout: duration(1000).default(15_000),
        operationTimeout: duration(1000).default(60_000),
      })
      .default({ executable: 'pwsh', arguments: [], environment: {}, invocationTimeout: 120_000, openTimeout: 15_000, operationTimeout: 60_000 }),
    maintenance: z
      .strictObject({
        /** Suspend-ClusterNode -ForceDrain: roles that cannot move are stopped and the node pauses anyway. */
        forceDrain: z.boolean().default(false),
        /** Resume-ClusterNode -Failback. */
        failback: z.enum(['NoFailback', 'Immediate', 'Policy']).default('NoFailback'),
      })
      .default({ forceDrain: false, failback: 'NoFailback' }),
  })
  .refine((c) => Boolean(c.cluster) !== Boolean(c.hosts), { message: 'name either cluster (a Failover Cluster) or hosts (standalone hosts), not both', path: ['cluster'] })
  .refine((c) => !c.nodes || c.cluster, { message: 'nodes apply to a cluster', path: ['nodes'] })
  .refine((c) => !c.sharedStorage || c.hosts, { message: 'sharedStorage applies to standalone hosts; a cluster reports its Cluster Shared Volumes itself', path: ['sharedStorage'] })
  .refine((c) => !c.password || c.username, { message: 'a password needs a username', path: ['password'] })
  .refine((c) => c.transport !== 'ssh' || !c.password, { message: 'SSH remoting authenticates with keyFile (or an agent), not a password', path: ['password'] })
  .refine((c) => !c.insecure || c.useSsl, { message: 'insecure only applies to useSsl: true', path: ['insecure'] });

export type HyperVClusterConfig = z.infer<typeof hypervConfigSchema>;
