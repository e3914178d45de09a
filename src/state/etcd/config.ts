/**
 * `state.etcd` in vigil.yaml: where the replicas' shared state lives and
 * how they reach it (docs/replicas.md lists every key). Secrets (the
 * password, a key file's path is not one) arrive already substituted by
 * the loader (`${env:…}`, `${file:…}`); no message here quotes a value.
 *
 *   state:
 *     etcd:
 *       endpoints: [https://etcd-1:2379, https://etcd-2:2379, https://etcd-3:2379]
 *       prefix: /vigil/
 *       leaseTtl: 10s
 *       tls: {caFile: ./certs/etcd-ca.pem, certFile: ./certs/vigil.pem, keyFile: ./certs/vigil-key.pem}
 *       auth: {username: vigil, password: ${env:ETCD_PASSWORD}}
 */
import { z } from 'zod';
import { duration } from '../../config/types.js';

const endpoint = z
  .string()
  .regex(/^https?:\/\/[^/\s?#@]+\/?$/, 'must be an http:// or https:// URL of an etcd client endpoint, such as https://etcd-1:2379 (no path, no credentials)');

export const etcdConfigSchema = z
  .strictObject({
    /** etcd's client URLs; every member, so the replicas survive losing one. */
    endpoints: z.array(endpoint).min(1, 'name at least one etcd endpoint'),
    /** Every key Vigil writes starts with this; replicas of one installation share it, others must not. */
    prefix: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]*$/, 'must start with "/" and use letters, digits, ".", "_", "-" and "/"')
      .default('/vigil/')
      .transform((p) => (p.endsWith('/') ? p : `${p}/`)),
    /** A leader that cannot renew its lease for this long loses the cluster; whole seconds (etcd counts leases in seconds). */
    leaseTtl: duration(2_000)
      .default(10_000)
      .refine((ms) => ms % 1000 === 0, 'must be a whole number of seconds, such as 10s')
      .refine((ms) => ms <= 300_000, 'must be at most 5m'),
    /** This replica's name in status and logs (default: hostname and pid). Give each replica its own. */
    replicaName: z.string().min(1).max(128).regex(/^[^\s]+$/, 'no spaces').optional(),
    /** How long `vigil run` waits for etcd at start before it gives up. */
    dialTimeout: duration(100).default(5_000),
    /** The longest a single etcd request (a journal write, a read) may take. */
    requestTimeout: duration(100).default(5_000),
    tls: z
      .strictObject({
        /** The CA that signed the etcd members' certificates (default: the system's CAs). */
        caFile: z.string().min(1).optional(),
        /** A client certificate and its key, for etcd's --client-cert-auth. */
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'certFile and keyFile go together')
      .optional(),
    /** etcd's user/password authentication. */
    auth: z.strictObject({ username: z.string().min(1, 'is required'), password: z.string().min(1, 'is required') }).optional(),
  })
  .superRefine((c, ctx) => {
    const plain = c.endpoints.filter((e) => e.startsWith('http://'));
    if (c.tls && plain.length) ctx.addIssue({ code: 'custom', path: ['endpoints'], message: `tls is set, so every endpoint must be https:// (not ${plain.join(', ')})` });
    if (plain.length && plain.length < c.endpoints.length) ctx.addIssue({ code: 'custom', path: ['endpoints'], message: 'use https:// for every endpoint or for none' });
  });

export type EtcdConfig = z.output<typeof etcdConfigSchema>;
