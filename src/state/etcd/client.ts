/**
 * The etcd client for `state.etcd`: TLS from files (verified against the
 * given CA, else the system's), user/password authentication, a deadline
 * on every request, and watch streams that come back within a second once
 * etcd does. `connectEtcd` proves etcd answers (a quorum read) before
 * anything starts, and turns every way it can fail into one clear,
 * expected error; the password is never part of any message.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Etcd3, EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCUnauthenticatedError, type IOptions } from 'etcd3';
import { ErrorCodes, messageOf, VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { EtcdConfig } from './config.js';

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Reconnects a broken watch after 100 ms, doubling to at most 1 s: a replica must see the state again soon after etcd is back. */
function cappedBackoff(ms = 100): WatchBackoff {
  return { duration: ms, next: () => cappedBackoff(Math.min(ms * 2, 1_000)) };
}

function readPem(baseDir: string, file: string, what: string): Buffer {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new VigilError(ErrorCodes.CONFIG_INVALID, `state.etcd.tls.${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? messageOf(e)}`, { expected: true });
  }
}

export function etcdOptions(c: EtcdConfig, baseDir: string): IOptions {
  const tls = c.tls;
  // With neither a CA nor a client certificate, https:// endpoints are checked against the system's CAs (etcd3 does that itself).
  const credentials =
    tls && (tls.caFile || tls.certFile)
      ? {
          // gRPC takes a missing root as "the system's CAs".
          rootCertificate: (tls.caFile ? readPem(baseDir, tls.caFile, 'caFile') : null) as Buffer,
          ...(tls.certFile ? { certChain: readPem(baseDir, tls.certFile, 'certFile') } : {}),
          ...(tls.keyFile ? { privateKey: readPem(baseDir, tls.keyFile, 'keyFile') } : {}),
        }
      : undefined;
  return {
    hosts: c.endpoints.map((e) => e.replace(/\/$/, '')),
    dialTimeout: c.dialTimeout,
    // Unary calls get a deadline; streams (watch, keepalive) live on, and their own health is watched elsewhere.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + c.requestTimeout }),
    faultHandling: { watchBackoff: cappedBackoff() },
    ...(credentials ? { credentials } : {}),
    ...(c.auth ? { auth: { username: c.auth.username, password: c.auth.password, callOptions: () => ({ deadline: Date.now() + c.dialTimeout }) } } : {}),
  };
}

/**
 * Connects and reads `probeKey` with a quorum read. Throws an expected
 * VigilError naming the endpoints and what went wrong: nothing may start
 * on a state store it cannot reach.
 */
export async function connectEtcd(c: EtcdConfig, o: { baseDir: string; logger: Pick<Logger, 'warn'>; probeKey: string }): Promise<Etcd3> {
  if (c.auth && c.endpoints.some((e) => e.startsWith('http://'))) {
    o.logger.warn({ endpoints: c.endpoints }, 'state.etcd: a password is sent to etcd over plain http://; use https:// endpoints with tls');
  }
  const client = new Etcd3(etcdOptions(c, o.baseDir));
  const where = c.endpoints.join(', ');
  try {
    await withDeadline(client.get(o.probeKey).options({ deadline: Date.now() + c.dialTimeout }).exec(), c.dialTimeout + 500);
    return client;
  } catch (e) {
    client.close();
    if (e instanceof EtcdAuthenticationFailedError || e instanceof GRPCUnauthenticatedError) {
      throw new VigilError(ErrorCodes.CONFIG_INVALID, `state.etcd: etcd at ${where} refused the user name or password (${e.constructor.name})`, { expected: true });
    }
    if (e instanceof EtcdPermissionDeniedError) {
      throw new VigilError(ErrorCodes.CONFIG_INVALID, `state.etcd: etcd at ${where} denies this user access to ${c.prefix} (grant it a role with readwrite on that prefix)`, { expected: true });
    }
    throw new VigilError(ErrorCodes.CONFIG_INVALID, `state.etcd: cannot reach etcd at ${where} within ${c.dialTimeout} ms (${scrub(messageOf(e), c)}); check the endpoints, TLS and that a quorum of members runs`, { expected: true, cause: e });
  }
}

/** etcd's and gRPC's messages do not carry the password, but make sure. */
function scrub(message: string, c: EtcdConfig): string {
  return c.auth ? message.split(c.auth.password).join('***') : message;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_r, reject) => (t = setTimeout(() => reject(new Error('no answer')), ms)))]).finally(() => clearTimeout(t));
}
