/**
 * etcd over TLS with client certificates, and with user/password
 * authentication: each against a real one-member etcd configured so.
 * Wrong credentials and an untrusted server are clear start-up errors that
 * never carry the password.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { etcdConfigSchema } from '../../../src/state/etcd/config.js';
import { openEtcdState } from '../../../src/state/etcd/open.js';
import { silentLogger } from '../../../src/log.js';
import { startEtcdCluster } from '../../../bench/takeover/etcd-cluster.js';
import { selfSigned } from '../../fence/certs.js';
import { tempDir } from '../../helpers/tmp.js';

function open(etcd: Record<string, unknown>) {
  const config = etcdConfigSchema.parse({ prefix: '/vigil-sec/', dialTimeout: '2s', requestTimeout: '2s', leaseTtl: '2s', ...etcd });
  return openEtcdState({ config, baseDir: '/', clusters: ['c'], logger: silentLogger(), replica: 'sec' });
}

function etcdctl(endpoint: string, args: string[]): void {
  const r = spawnSync('etcdctl', ['--endpoints', endpoint, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
}

describe('etcd security options', () => {
  it('TLS: verifies the members against caFile and presents a client certificate', async () => {
    const dir = tempDir();
    const server = selfSigned('etcd-server', dir);
    const client = selfSigned('vigil-client', dir);
    const etcd = await startEtcdCluster(1, {
      tag: 'tls',
      tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: client.certFile, ctl: ['--cacert', server.certFile, '--cert', client.certFile, '--key', client.keyFile] },
    });
    try {
      const endpoints = etcd.endpoints;
      expect(endpoints[0]).toMatch(/^https:/);
      const state = await open({ endpoints, tls: { caFile: server.certFile, certFile: client.certFile, keyFile: client.keyFile } });
      await state.journal.append({ type: 'freeze', cluster: '*', reason: 'tls works', by: 'test', at: 1 });
      expect(state.journal.state().frozen.has('*')).toBe(true);
      await state.close();
      // Without the client certificate, or trusting another CA, it does not start.
      await expect(open({ endpoints, tls: { caFile: server.certFile } })).rejects.toMatchObject({ code: 'VIGIL_E_CONFIG_INVALID', expected: true });
      await expect(open({ endpoints, tls: { caFile: client.certFile, certFile: client.certFile, keyFile: client.keyFile } })).rejects.toThrow(/cannot reach etcd/);
      await expect(open({ endpoints, tls: { caFile: '/nonexistent/ca.pem' } })).rejects.toThrow(/state\.etcd\.tls\.caFile: cannot read \/nonexistent\/ca\.pem: ENOENT/);
    } finally {
      await etcd.stop();
    }
  }, 30_000);

  it('user/password: works with the right password, refuses a wrong one and a user without access, never saying the password', async () => {
    const etcd = await startEtcdCluster(1, { tag: 'auth' });
    try {
      const ep = etcd.endpoints[0] as string;
      etcdctl(ep, ['user', 'add', 'root:root-pw-1']);
      etcdctl(ep, ['role', 'add', 'vigil']);
      etcdctl(ep, ['role', 'grant-permission', 'vigil', '--prefix=true', 'readwrite', '/vigil-sec/']);
      etcdctl(ep, ['user', 'add', 'vigil:s3cret-pw']);
      etcdctl(ep, ['user', 'grant-role', 'vigil', 'vigil']);
      etcdctl(ep, ['user', 'add', 'nobody:nobody-pw']);
      etcdctl(ep, ['auth', 'enable']);
      const endpoints = etcd.endpoints;
      const state = await open({ endpoints, auth: { username: 'vigil', password: 's3cret-pw' } });
      state.start(0);
      await expect.poll(() => state.leadership('c')?.isLeader(), { timeout: 10_000 }).toBe(true);
      await state.journal.append({ type: 'fenced', cluster: 'c', host: 'h1', agent: 'redfish', evidence: 'off', at: 1 });
      await state.close();

      const wrong = await open({ endpoints, auth: { username: 'vigil', password: 'not-the-pw' } }).catch((e: Error) => e);
      expect(wrong).toMatchObject({ code: 'VIGIL_E_CONFIG_INVALID' });
      expect((wrong as Error).message).toMatch(/refused the user name or password/);
      expect((wrong as Error).message).not.toContain('not-the-pw');
      const denied = await open({ endpoints, auth: { username: 'nobody', password: 'nobody-pw' } }).catch((e: Error) => e);
      expect((denied as Error).message).toMatch(/denies this user access to \/vigil-sec\//);
      expect((denied as Error).message).not.toContain('nobody-pw');
    } finally {
      await etcd.stop();
    }
  }, 30_000);
});
