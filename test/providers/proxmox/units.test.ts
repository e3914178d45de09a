/** Tables for the small pure parts: config keys, SSH safety (names, quoting, known_hosts), guest configs, UPIDs, error translation. */
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError } from '../../../src/errors.js';
import { proxmoxConfigSchema } from '../../../providers/proxmox/config.js';
import { configPath, moveScript, parseGuestConfig } from '../../../providers/proxmox/direct.js';
import { PveHttpError, toVigilError } from '../../../providers/proxmox/errors.js';
import { knownHostAccepts, parseKnownHosts, safeName, safeVmid, shq } from '../../../providers/proxmox/ssh.js';
import { parseUpid, taskSucceeded } from '../../../providers/proxmox/tasks.js';

const base = { name: 'pve', provider: 'proxmox', url: 'https://pve1.example:8006', tokenId: 'vigil@pve!ha', tokenSecret: 'x' };

describe('proxmox config', () => {
  it('accepts a token or a user, not both, and direct recovery only with ssh', () => {
    expect(proxmoxConfigSchema.safeParse(base).success).toBe(true);
    expect(proxmoxConfigSchema.safeParse({ ...base, username: 'root@pam', password: 'p' }).success).toBe(false);
    expect(proxmoxConfigSchema.safeParse({ ...base, tokenId: 'vigil' }).success).toBe(false);
    expect(proxmoxConfigSchema.safeParse({ ...base, recovery: 'direct' }).success).toBe(false);
    const ssh = { privateKeyFile: 'k' };
    expect(proxmoxConfigSchema.safeParse({ ...base, recovery: 'direct', ssh }).success).toBe(false); // no host key source
    expect(proxmoxConfigSchema.safeParse({ ...base, recovery: 'direct', ssh: { ...ssh, knownHostsFile: 'kh' } }).success).toBe(true);
    expect(proxmoxConfigSchema.safeParse({ ...base, ssh: { ...ssh, knownHostsFile: 'kh', pveRoot: '/etc/pve; rm -rf /' } }).success).toBe(false);
    expect(proxmoxConfigSchema.safeParse({ ...base, fingerprint: 'AB:CD' }).success).toBe(false);
    const fp = proxmoxConfigSchema.parse({ ...base, fingerprint: '80:D4:F2:DF:64:95:CD:8D:A0:82:82:AC:48:BA:C0:7A:1B:6B:87:8B:FE:B9:83:1C:95:4E:79:58:77:99:69:F5' });
    expect(fp.fingerprint).toBe('80d4f2df6495cd8da08282ac48bac07a1b6b878bfeb9831c954e7958779969f5');
  });
});

describe('proxmox SSH safety', () => {
  it.each(['pve1', 'node-2', 'a'])('accepts node name %s', (n) => expect(safeName(n)).toBe(n));
  it.each(['pve1;reboot', '$(id)', 'a b', '../etc', '-rf', 'node_1', `a'b`, ''])('rejects node name %j', (n) => {
    expect(() => safeName(n)).toThrow(VigilError);
  });
  it.each(['100', '999999999'])('accepts VMID %s', (v) => expect(safeVmid(v)).toBe(Number(v)));
  it.each(['99', '0100', '1e3', '100;id', 'no-such-vm-4711'])('rejects VMID %j', (v) => {
    expect(() => safeVmid(v)).toThrow(VigilError);
  });

  it('quotes so that the shell sees one word, whatever it holds', () => {
    for (const s of [`it's`, '$(touch /tmp/x)', '`id`', 'a b', '"q"']) {
      expect(execFileSync('/bin/sh', ['-c', `printf %s ${shq(s)}`], { encoding: 'utf8' })).toBe(s);
    }
    expect(moveScript(configPath('/etc/pve', 'pve2', 'qemu', 101), configPath('/etc/pve', 'pve3', 'qemu', 101))).toContain(`src='/etc/pve/nodes/pve2/qemu-server/101.conf'; dst='/etc/pve/nodes/pve3/qemu-server/101.conf'`);
  });

  it('matches plain, bracketed and hashed known_hosts entries, and honours @revoked', () => {
    const key = Buffer.from('ssh-ed25519-test-key');
    const other = Buffer.from('another-key');
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('[10.0.0.7]:2222').digest();
    const entries = parseKnownHosts(
      [`pve1,10.0.0.1 ssh-ed25519 ${key.toString('base64')}`, `[127.0.0.1]:2200 ssh-ed25519 ${key.toString('base64')}`, `|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 ${key.toString('base64')}`, `@revoked * ssh-ed25519 ${other.toString('base64')}`, `*.example ssh-ed25519 ${other.toString('base64')}`].join('\n'),
    );
    expect(knownHostAccepts(entries, 'pve1', 22, key)).toBe(true);
    expect(knownHostAccepts(entries, '10.0.0.1', 22, key)).toBe(true);
    expect(knownHostAccepts(entries, '127.0.0.1', 2200, key)).toBe(true);
    expect(knownHostAccepts(entries, '127.0.0.1', 22, key)).toBe(false);
    expect(knownHostAccepts(entries, '10.0.0.7', 2222, key)).toBe(true);
    expect(knownHostAccepts(entries, 'pve2', 22, key)).toBe(false);
    expect(knownHostAccepts(entries, 'pve1', 22, other)).toBe(false);
    expect(knownHostAccepts(entries, 'x.example', 22, other)).toBe(false); // revoked wins
  });
});

describe('proxmox guest configs and tasks', () => {
  it('finds disks, storages, host paths and the lock, ignoring cdroms and snapshots', () => {
    const qemu = parseGuestConfig(['boot: order=scsi0', 'ide2: local:iso/debian.iso,media=cdrom', 'lock: backup', 'scsi0: ceph:vm-101-disk-0,size=32G', 'efidisk0: ceph:vm-101-disk-1,size=4M', 'unused0: local-lvm:vm-101-disk-2', 'scsi1: none,media=cdrom', '', '[snap1]', 'scsi2: nfs:101/old.qcow2'].join('\n'), 'qemu');
    expect(qemu).toEqual({ lock: 'backup', storages: ['ceph', 'local-lvm'], hostPaths: [] });
    expect(parseGuestConfig('rootfs: local-zfs:subvol-200-disk-0,size=8G\nmp0: /srv/data,mp=/data\n', 'lxc')).toEqual({ storages: ['local-zfs'], hostPaths: ['/srv/data'] });
  });

  it('reads UPIDs and exit statuses', () => {
    expect(parseUpid('UPID:pve1:0000B001:0000B001:6553F100:qmigrate:101:vigil@pve!ha:')).toEqual({ node: 'pve1', starttime: 0x6553f100, type: 'qmigrate', id: '101' });
    expect(parseUpid('UPID:node:003094EA:095F1EFE:63E88772:download:file.iso:root@pam:done')?.type).toBe('download');
    expect(parseUpid('not-a-upid')).toBeUndefined();
    expect(taskSucceeded('OK')).toBe(true);
    expect(taskSucceeded('WARNINGS: 2')).toBe(true);
    expect(taskSucceeded('interrupted by signal')).toBe(false);
    expect(taskSucceeded(undefined)).toBe(false);
  });

  it('translates PVE HTTP errors into coded Vigil errors', () => {
    const t = (status: number, reason: string) => toVigilError(new PveHttpError('POST', '/api2/json/x', status, reason), 'op');
    expect(t(595, 'No route to host')).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, retryable: true });
    expect(t(596, 'Connection timed out')).toMatchObject({ code: ErrorCodes.PROVIDER_UNAVAILABLE, retryable: true });
    expect(t(500, 'VM 101 is locked (migrate)')).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, retryable: true, details: expect.objectContaining({ lock: 'migrate' }) });
    expect(t(500, "Configuration file 'nodes/pve1/qemu-server/4711.conf' does not exist")).toMatchObject({ code: ErrorCodes.UNKNOWN_VM, expected: true });
    expect(t(403, 'Permission check failed (/vms/101, VM.Migrate)')).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, details: expect.objectContaining({ reason: 'permission' }) });
    expect(t(500, "can't migrate running VM without --online")).toMatchObject({ code: ErrorCodes.PROVIDER_REFUSED, retryable: false });
  });
});
