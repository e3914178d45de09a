/**
 * The real programs the Proxmox tests drive next to the API stand-in: a
 * self-signed certificate made by `openssl` at test time, and a real
 * OpenSSH `sshd` (Debian's openssh-server) on a loopback port with its own
 * config, host key and an authorized key made by `ssh-keygen`, so the
 * `direct` recovery's SSH step runs exactly as against a Proxmox node.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/cli.js';

export const SSHD = '/usr/sbin/sshd';

function need(bin: string, pkg: string): void {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: install Debian's ${pkg} (npm test runs .ci/setup-peers, which installs .ci/packages.d/proxmox.txt)`);
}

export interface SelfSigned {
  readonly key: string;
  readonly cert: string;
  readonly certFile: string;
  /** SHA-256 fingerprint as Proxmox shows it (AA:BB:...). */
  readonly fingerprint: string;
}

export function selfSignedCert(dir: string, cn = 'pve1.standin'): SelfSigned {
  need('/usr/bin/openssl', 'openssl');
  const keyFile = join(dir, 'pve-ssl.key');
  const certFile = join(dir, 'pve-ssl.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const cert = readFileSync(certFile, 'utf8');
  return { key: readFileSync(keyFile, 'utf8'), cert, certFile, fingerprint: new X509Certificate(cert).fingerprint256 };
}

export interface Sshd {
  readonly port: number;
  readonly knownHostsFile: string;
  readonly hostKeyFingerprint: string;
  readonly clientKeyFile: string;
  readonly username: string;
  readonly haManager: string;
  stop(): Promise<void>;
}

/** Starts sshd on 127.0.0.1:<free port>; `pveRoot` is where the fake ha-manager leaves its crm commands. */
export async function startSshd(dir: string, pveRoot: string): Promise<Sshd> {
  need(SSHD, 'openssh-server');
  need('/usr/bin/ssh-keygen', 'openssh-client');
  mkdirSync(dir, { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'vigil_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'standin-host', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vigil-test', '-f', clientKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  const username = userInfo().username;
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `AllowUsers ${username}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1] as string;

  // A stand-in for Proxmox's ha-manager: only `crm-command node-maintenance enable|disable NODE`, written where the CRM reads it.
  const haManager = join(dir, 'ha-manager');
  writeFileSync(
    haManager,
    [
      '#!/bin/sh',
      'set -eu',
      '[ "$#" -eq 4 ] && [ "$1" = crm-command ] && [ "$2" = node-maintenance ] || { echo "ha-manager stand-in: unsupported: $*" >&2; exit 2; }',
      'case "$3" in enable|disable) ;; *) echo "ha-manager stand-in: bad action $3" >&2; exit 2;; esac',
      `echo "$3-node-maintenance $4" >> '${pveRoot}/ha/crm_commands'`,
      '',
    ].join('\n'),
  );
  chmodSync(haManager, 0o755);

  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not start on 127.0.0.1:${port}: ${stderr.trim() || `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    knownHostsFile,
    hostKeyFingerprint: fp,
    clientKeyFile: clientKey,
    username,
    haManager,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
