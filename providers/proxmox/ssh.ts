/**
 * Runs one command on a Proxmox node over SSH (ssh2), for the two things
 * Proxmox offers no API for: moving a dead node's guest config (manual
 * recovery, as the Proxmox docs describe it) and HA node maintenance
 * (`ha-manager crm-command node-maintenance`).
 *
 * The host key is always checked, against a known_hosts file (plain or
 * hashed entries) or pinned SHA256 fingerprints; an unknown key ends the
 * connection before authentication. Commands are built only from values
 * checked by `safeName`/`safePath` and single-quoted, never by pasting
 * names into a shell line.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import type { SshConfig } from './config.js';

export interface SshResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PVE node names are host names; VMIDs are integers from 100 to 999999999. */
export const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const VMID = /^[1-9][0-9]{2,8}$/;

export function safeName(node: string): string {
  if (!NODE_NAME.test(node)) throw new VigilError(ErrorCodes.UNKNOWN_HOST, `"${node}" is not a Proxmox node name`, { expected: true });
  return node;
}

export function safeVmid(id: string): number {
  if (!VMID.test(id)) throw new VigilError(ErrorCodes.UNKNOWN_VM, `"${id}" is not a Proxmox VMID`, { expected: true });
  return Number(id);
}

/** Single-quotes for a POSIX shell; the value was validated before, this is the second wall. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

interface KnownKey {
  readonly hosts: readonly string[];
  readonly hashed?: { readonly salt: Buffer; readonly hash: Buffer };
  readonly key: Buffer;
  readonly revoked: boolean;
}

export function parseKnownHosts(text: string): KnownKey[] {
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let parts = line.split(/\s+/);
    let revoked = false;
    if (parts[0]?.startsWith('@')) {
      if (parts[0] === '@revoked') revoked = true;
      else continue; // @cert-authority: certificates are not supported; such lines trust nothing here
      parts = parts.slice(1);
    }
    const [hostField, , b64] = parts;
    if (!hostField || !b64) continue;
    const key = Buffer.from(b64, 'base64');
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (salt && hash) out.push({ hosts: [], hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }, key, revoked });
    } else out.push({ hosts: hostField.split(','), key, revoked });
  }
  return out;
}

function hostMatches(entry: KnownKey, name: string): boolean {
  if (entry.hashed) return createHmac('sha1', entry.hashed.salt).update(name).digest().equals(entry.hashed.hash);
  let hit = false;
  for (const pattern of entry.hosts) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (re.test(name)) {
      if (negated) return false;
      hit = true;
    }
  }
  return hit;
}

/** True when `key` is the known key of `host:port` (and not revoked). */
export function knownHostAccepts(entries: readonly KnownKey[], host: string, port: number, key: Buffer): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  if (entries.some((e) => e.revoked && e.key.equals(key))) return false;
  return entries.some((e) => !e.revoked && hostMatches(e, name) && e.key.equals(key));
}

export class SshRunner {
  private readonly privateKey: Buffer;
  private readonly known?: KnownKey[];

  constructor(
    private readonly cfg: SshConfig,
    resolvePath: (p: string) => string,
  ) {
    this.privateKey = readFileSync(resolvePath(cfg.privateKeyFile));
    if (cfg.knownHostsFile) this.known = parseKnownHosts(readFileSync(resolvePath(cfg.knownHostsFile), 'utf8'));
  }

  get pveRoot(): string {
    return this.cfg.pveRoot.replace(/\/+$/, '');
  }

  get haManager(): string {
    return this.cfg.haManager;
  }

  /** The address to reach `node` at: configured, else what /cluster/status says. */
  address(node: string, clusterIp: string | undefined): string {
    const a = this.cfg.hosts?.[node] ?? clusterIp;
    if (!a) throw new VigilError(ErrorCodes.PROVIDER_REFUSED, `no SSH address for node ${node}: /cluster/status gives no ip; add it under ssh.hosts`, { expected: true });
    return a;
  }

  private accepts(host: string, key: Buffer): boolean {
    if (this.cfg.hostKeyFingerprints?.includes(fingerprintOf(key))) return true;
    return this.known ? knownHostAccepts(this.known, host, this.cfg.port, key) : false;
  }

  run(host: string, command: string): Promise<SshResult> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let rejectedKey: string | undefined;
      let settled = false;
      const finish = (err: Error | undefined, result?: SshResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.end();
        if (err) reject(err);
        else resolve(result as SshResult);
      };
      const timer = setTimeout(() => finish(new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `ssh ${host}: no answer within ${this.cfg.timeout} ms`, { retryable: true, details: { reason: 'ssh-timeout' } })), this.cfg.timeout);
      client
        .on('ready', () => {
          client.exec(command, (err, stream) => {
            if (err) return finish(new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `ssh ${host}: ${err.message}`, { retryable: true, cause: err }));
            let stdout = '';
            let stderr = '';
            let code: number | null = null;
            stream.on('data', (d: Buffer) => (stdout += d.toString()));
            stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
            stream.on('exit', (c: number | null) => (code = c));
            stream.on('close', () => finish(undefined, { code, stdout, stderr }));
          });
        })
        .on('error', (err: Error & { level?: string }) => {
          if (rejectedKey) {
            finish(
              new VigilError(ErrorCodes.PROVIDER_REFUSED, `ssh ${host}: host key ${rejectedKey} is not known; add it to ssh.knownHostsFile or ssh.hostKeyFingerprints (Vigil never accepts an unknown host key)`, {
                expected: true,
                details: { reason: 'ssh-host-key' },
              }),
            );
          } else if (err.level === 'client-authentication') {
            finish(new VigilError(ErrorCodes.PROVIDER_REFUSED, `ssh ${host}: authentication as ${this.cfg.username} refused`, { expected: true, details: { reason: 'ssh-auth' } }));
          } else {
            finish(new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `ssh ${host}: ${err.message}`, { retryable: true, details: { reason: 'ssh' } }));
          }
        })
        .connect({
          host,
          port: this.cfg.port,
          username: this.cfg.username,
          privateKey: this.privateKey,
          ...(this.cfg.passphrase ? { passphrase: this.cfg.passphrase } : {}),
          readyTimeout: this.cfg.timeout,
          hostVerifier: (key: Buffer) => {
            if (this.accepts(host, key)) return true;
            rejectedKey = fingerprintOf(key);
            return false;
          },
        });
    });
  }
}
