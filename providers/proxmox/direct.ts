/**
 * The `direct` recovery's file step: the manual recovery the Proxmox docs
 * describe (move the guest's config from the dead node's folder in
 * /etc/pve to a surviving node's, which pmxcfs turns into a change of
 * owner cluster-wide), as two small POSIX shell scripts run over SSH.
 *
 * Both are idempotent, so a retry after a lost answer is safe: `inspect`
 * reports where the config is now, `move` renames only when the target
 * does not exist yet and reports ALREADY when an earlier attempt did it.
 */
import { shq } from './ssh.js';

export type GuestType = 'qemu' | 'lxc';

export function configPath(root: string, node: string, type: GuestType, vmid: number): string {
  return `${root}/nodes/${node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf`;
}

export function inspectScript(src: string, dst: string): string {
  return `src=${shq(src)}; dst=${shq(dst)}; if [ -e "$src" ]; then echo VIGIL:AT-SOURCE; cat -- "$src"; elif [ -e "$dst" ]; then echo VIGIL:AT-TARGET; cat -- "$dst"; else echo VIGIL:MISSING; fi`;
}

export function moveScript(src: string, dst: string): string {
  return `src=${shq(src)}; dst=${shq(dst)}; if [ -e "$dst" ]; then if [ -e "$src" ]; then echo VIGIL:CONFLICT; exit 3; fi; echo VIGIL:ALREADY; exit 0; fi; mv -- "$src" "$dst" && echo VIGIL:MOVED`;
}

export interface GuestConfig {
  readonly lock?: string;
  /** Storage ids holding the guest's disks (cdroms and `none` left out). */
  readonly storages: readonly string[];
  /** Disks that are host paths (bind mounts, raw devices): tied to the dead node. */
  readonly hostPaths: readonly string[];
}

const QEMU_DISK = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/;
const LXC_DISK = /^(rootfs|mp\d+|unused\d+)$/;

/** Reads the current section of a guest config (snapshot sections start with `[`). */
export function parseGuestConfig(text: string, type: GuestType): GuestConfig {
  const storages = new Set<string>();
  const hostPaths: string[] = [];
  let lock: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) break;
    const m = /^([a-z0-9_-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'lock') lock = value.trim();
    if (!(type === 'qemu' ? QEMU_DISK : LXC_DISK).test(key)) continue;
    const first = value.split(',')[0] ?? '';
    if (/(^|,)media=cdrom(,|$)/.test(value) || first === 'none' || first === '') continue;
    if (first.startsWith('/')) hostPaths.push(first);
    else {
      const storage = /^([A-Za-z][A-Za-z0-9._-]*):/.exec(first)?.[1];
      if (storage) storages.add(storage);
    }
  }
  return { ...(lock ? { lock } : {}), storages: [...storages].sort(), hostPaths };
}
