/**
 * The stand-in's copy of /etc/pve, as pmxcfs lays it out: a guest belongs
 * to the node whose folder holds its config
 * (`nodes/<node>/qemu-server/<vmid>.conf`, `nodes/<node>/lxc/<vmid>.conf`),
 * its lock is the config's `lock:` line, and `ha/crm_commands` is where
 * `ha-manager crm-command` leaves requests for the HA manager. So a `mv`
 * done over SSH by the provider changes the owner exactly as it would on
 * a real cluster.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type GuestType = 'qemu' | 'lxc';

export interface GuestFile {
  readonly vmid: number;
  readonly type: GuestType;
  readonly node: string;
  readonly config: Record<string, string>;
}

const DIR: Record<GuestType, string> = { qemu: 'qemu-server', lxc: 'lxc' };

export class PveTree {
  constructor(readonly root: string) {}

  init(nodes: readonly string[]): void {
    for (const n of nodes) for (const d of Object.values(DIR)) mkdirSync(join(this.root, 'nodes', n, d), { recursive: true });
    mkdirSync(join(this.root, 'ha'), { recursive: true });
    writeFileSync(join(this.root, 'ha', 'crm_commands'), '');
  }

  path(node: string, type: GuestType, vmid: number): string {
    return join(this.root, 'nodes', node, DIR[type], `${vmid}.conf`);
  }

  write(node: string, type: GuestType, vmid: number, config: Record<string, string>): void {
    const lines = Object.entries(config).map(([k, v]) => `${k}: ${v}`);
    writeFileSync(this.path(node, type, vmid), `${lines.join('\n')}\n`);
  }

  /** Every guest, by scanning the node folders (what pmxcfs' vmlist is built from). */
  guests(): GuestFile[] {
    const out: GuestFile[] = [];
    const nodesDir = join(this.root, 'nodes');
    if (!existsSync(nodesDir)) return out;
    for (const node of readdirSync(nodesDir).sort()) {
      for (const type of ['qemu', 'lxc'] as const) {
        const dir = join(nodesDir, node, DIR[type]);
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir)) {
          const m = /^(\d+)\.conf$/.exec(f);
          if (!m) continue;
          out.push({ vmid: Number(m[1]), type, node, config: parseConfig(readFileSync(join(dir, f), 'utf8')) });
        }
      }
    }
    return out.sort((a, b) => a.vmid - b.vmid);
  }

  find(vmid: number): GuestFile | undefined {
    return this.guests().find((g) => g.vmid === vmid);
  }

  setLock(g: GuestFile, lock: string | undefined): void {
    const config = { ...g.config };
    if (lock) config.lock = lock;
    else delete config.lock;
    this.write(g.node, g.type, g.vmid, config);
  }

  move(g: GuestFile, to: string): void {
    renameSync(this.path(g.node, g.type, g.vmid), this.path(to, g.type, g.vmid));
  }

  /** Queues a crm command, as `ha-manager migrate SID NODE` does. */
  queueCrmCommand(line: string): void {
    appendFileSync(join(this.root, 'ha', 'crm_commands'), `${line}\n`);
  }

  /** Takes the pending crm commands (the HA manager consumes them). */
  takeCrmCommands(): string[] {
    const f = join(this.root, 'ha', 'crm_commands');
    if (!existsSync(f)) return [];
    const text = readFileSync(f, 'utf8');
    if (!text.trim()) return [];
    writeFileSync(f, '');
    return text.split('\n').filter((l) => l.trim());
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function parseConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('[')) break;
    const m = /^([a-z0-9_-]+):\s*(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}
