/**
 * Vigil's operations as Proxmox calls. Each one is safe to repeat: before
 * acting, and before reporting an ambiguous failure (a POST that got no
 * answer may have been accepted), it looks at the guest's node, its lock
 * and its recent tasks, and adopts a task already running instead of
 * starting a second one. The transport never re-sends a request itself.
 *
 *   migrate      GET .../migrate (pre-flight), POST .../migrate online=1
 *                (containers: restart migration), followed by its UPID;
 *                for an HA-managed guest (an `hamigrate` UPID, which only
 *                queues the request) until the guest is on the target
 *   restart      native: refused (Proxmox HA owns HA guests; others are
 *                left alone); direct: node offline + cluster quorate,
 *                config moved over SSH, then POST .../status/start
 *   maintenance  `ha-manager crm-command node-maintenance` over SSH, then a
 *                Vigil task that waits for the HA manager to move guests off
 */
import { ErrorCodes, VigilError } from '../../src/errors.js';
import type { Clock } from '../../src/clock/clock.js';
import type { Logger } from '../../src/log.js';
import type { HostRef, TaskRef, TaskState, VmRef } from '../../src/provider.js';
import type { ProxmoxClusterConfig } from './config.js';
import { configPath, inspectScript, moveScript, parseGuestConfig, type GuestType } from './direct.js';
import { PveNetworkError, refused, toVigilError } from './errors.js';
import { parseClusterStatus, parseHaStatus, parseReplicationJobs, parseResources, rows, type ClusterStatus, type HaStatus, type ResourceGuest, type Resources } from './raw.js';
import type { ClusterReader } from './reader.js';
import { guestKey, haManaged, inMaintenance, nodeOnline } from './snapshot.js';
import { safeName, safeVmid, type SshRunner } from './ssh.js';
import { parseUpid, pveTaskState, type VigilTasks } from './tasks.js';
import type { PveTransport } from './transport.js';

export interface OpsContext {
  readonly transport: PveTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: ProxmoxClusterConfig;
  readonly ssh?: SshRunner;
  readonly tasks: VigilTasks;
  readonly reader: ClusterReader;
}

const MIGRATE_TASKS = ['qmigrate', 'vzmigrate', 'hamigrate'];
const START_TASKS = ['qmstart', 'vzstart', 'hastart'];

async function resources(ctx: OpsContext): Promise<Resources> {
  return parseResources(await ctx.transport.api().cluster.resources.$get());
}

async function clusterStatus(ctx: OpsContext): Promise<ClusterStatus> {
  return parseClusterStatus(await ctx.transport.api().cluster.status.$get());
}

async function haStatus(ctx: OpsContext): Promise<HaStatus> {
  return parseHaStatus(await ctx.transport.api().cluster.ha.status.current.$get());
}

function findGuest(res: Resources, vmid: number, vm: VmRef): ResourceGuest {
  const g = res.guests.find((x) => x.vmid === vmid);
  if (!g) throw new VigilError(ErrorCodes.UNKNOWN_VM, `no guest with VMID ${vmid} (${vm.name}) in the cluster`, { expected: true });
  return g;
}

function requireNode(res: Resources, status: ClusterStatus | undefined, node: string): void {
  if (!res.nodes.some((n) => n.node === node) && !status?.nodes.has(node)) throw new VigilError(ErrorCodes.UNKNOWN_HOST, `no node ${node} in the cluster`, { expected: true });
}

/**
 * The newest task of one of `types` for `vmid` on `node` that started at or
 * after `since` (Unix seconds), running or not. Used to adopt the work of an
 * earlier attempt instead of repeating it.
 */
export async function recentTask(ctx: OpsContext, node: string, vmid: number, types: readonly string[], since: number): Promise<{ upid: string; running: boolean } | undefined> {
  const endpoint = `/api2/json/nodes/${node}/tasks`;
  const data = await ctx.transport.api().nodes.$(node).tasks.$get({ vmid, source: 'all', since, limit: 50 });
  const found = rows(data, endpoint)
    .map((r) => ({ upid: typeof r.upid === 'string' ? r.upid : '', status: typeof r.status === 'string' ? r.status : undefined, endtime: r.endtime }))
    .map((r) => ({ ...r, u: parseUpid(r.upid) }))
    .filter((r) => r.u && types.includes(r.u.type) && r.u.id === String(vmid) && r.u.starttime >= since)
    .sort((a, b) => (b.u?.starttime ?? 0) - (a.u?.starttime ?? 0))[0];
  if (!found) return undefined;
  return { upid: found.upid, running: found.endtime === undefined && (found.status === undefined || found.status === 'running') };
}

/** Seconds, a little before `ms`: task start times are whole seconds and node clocks drift. */
function since(ms: number): number {
  return Math.floor(ms / 1000) - 5;
}

export async function migrate(ctx: OpsContext, vm: VmRef, to: HostRef, live: boolean): Promise<TaskRef> {
  const what = `migrate ${vm.name}`;
  const vmid = safeVmid(vm.id);
  const target = safeName(to.id);
  try {
    const startedAt = ctx.clock.now();
    const [res, status] = await Promise.all([resources(ctx), clusterStatus(ctx)]);
    const g = findGuest(res, vmid, vm);
    requireNode(res, status, target);
    if (g.node === target) return ctx.tasks.done('migrate', `${vmid}`);
    if (nodeOnline({ resources: res, status }, target) !== true) throw refused(`${what}: target node ${target} is not online`, 'target-offline', true);
    if (nodeOnline({ resources: res, status }, g.node) !== true) throw refused(`${what}: node ${g.node} is not online; a guest of a failed node is restarted, not migrated`, 'source-offline');
    const api = ctx.transport.api();
    const kind = g.type === 'qemu' ? 'qm' : 'vz';
    if (g.lock) {
      // An earlier attempt (ours or anyone's) may be migrating it right now: follow that one.
      const running = g.lock === 'migrate' ? await recentTask(ctx, g.node, vmid, MIGRATE_TASKS, 0) : undefined;
      if (running?.running) return followMigration(ctx, running.upid, vmid, target);
      throw refused(`${what}: VM ${vmid} is locked (${g.lock})`, 'locked', true, { lock: g.lock });
    }
    const running = g.status === 'running';
    if (g.type === 'qemu') {
      if (running && !live) throw refused(`${what}: VM ${vmid} is running; Proxmox moves a running VM only live`, 'running');
      const pre = (await api.nodes.$(g.node).qemu.$(vmid).migrate.$get({ target })) as unknown as Record<string, unknown> | null;
      const why = preflightRefusal(pre, target);
      if (why) throw refused(`${what} to ${target}: ${why}`, 'preflight');
    }
    let upid: string;
    try {
      upid =
        g.type === 'qemu'
          ? await api.nodes.$(g.node).qemu.$(vmid).migrate.$post({ target, ...(running ? { online: true } : {}) })
          : await api.nodes.$(g.node).lxc.$(vmid).migrate.$post({ target, ...(running ? { restart: true } : {}) });
    } catch (e) {
      if (e instanceof PveNetworkError && e.sent) {
        const adopted = await recentTask(ctx, g.node, vmid, MIGRATE_TASKS, since(startedAt));
        if (adopted) return followMigration(ctx, adopted.upid, vmid, target);
        throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: the migrate request got no answer and no ${kind}migrate task for ${vmid} appeared on ${g.node}; trying again is safe`, { retryable: true, cause: e });
      }
      throw e;
    }
    if (!parseUpid(String(upid))) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: the migrate answer is not a task id: ${JSON.stringify(upid)}`, { retryable: false });
    ctx.reader.invalidate();
    return followMigration(ctx, String(upid), vmid, target);
  } catch (e) {
    throw toVigilError(e, what);
  }
}

/**
 * The task that ends when the migration has. For a guest Proxmox HA
 * manages, the API answers with an `hamigrate` task that only queues the
 * request for the HA manager (`ha-manager migrate`) and ends at once; the
 * guest moves on a later CRM round. That task's success says nothing of
 * the guest, so a Vigil task follows it and then the guest itself.
 */
export function followMigration(ctx: OpsContext, upid: string, vmid: number, target: string): TaskRef {
  if (parseUpid(upid)?.type !== 'hamigrate') return { id: upid, op: 'migrate' };
  return ctx.tasks.add({ op: 'migrate', poll: () => haMigrationState(ctx, upid, vmid, target) }, `${vmid}`);
}

/** Done when the request was queued and the guest is on the target, unlocked, and HA no longer migrating it. */
async function haMigrationState(ctx: OpsContext, upid: string, vmid: number, target: string): Promise<TaskState> {
  const queued = await pveTaskState(ctx.transport, upid);
  if (queued.state !== 'success') return queued;
  const [res, ha] = await Promise.all([resources(ctx), haStatus(ctx)]);
  const g = res.guests.find((x) => x.vmid === vmid);
  if (!g) return { state: 'error', message: `guest ${vmid} is no longer in the cluster`, code: 'vanished', retryable: false };
  const svc = ha.services.get(guestKey(g));
  if (svc?.crmState === 'error') return { state: 'error', message: `Proxmox HA put ${guestKey(g)} into its error state while migrating it to ${target} (it is on ${g.node})`, code: 'ha-error', retryable: false };
  const settled = svc?.crmState === undefined || svc.crmState === 'started' || svc.crmState === 'stopped';
  if (g.node === target && !g.lock && settled) return { state: 'success' };
  return { state: 'running' };
}

/** Why the pre-flight says no (node not allowed, local disks or devices), or undefined. */
export function preflightRefusal(pre: Record<string, unknown> | null, target: string): string | undefined {
  if (!pre || typeof pre !== 'object') return undefined;
  const notAllowed = (pre.not_allowed_nodes ?? {}) as Record<string, { unavailable_storages?: string[]; 'blocking-ha-resources'?: { sid: string; cause: string }[] } | undefined>;
  const n = notAllowed[target];
  if (n) {
    const parts = [
      ...(n.unavailable_storages?.length ? [`storage not available there: ${n.unavailable_storages.join(', ')}`] : []),
      ...(n['blocking-ha-resources']?.length ? [`blocked by HA rules: ${n['blocking-ha-resources'].map((b) => `${b.sid} (${b.cause})`).join(', ')}`] : []),
    ];
    return `Proxmox does not allow node ${target}${parts.length ? ` (${parts.join('; ')})` : ''}`;
  }
  const disks = (Array.isArray(pre.local_disks) ? pre.local_disks : []) as { volid?: string; cdrom?: boolean }[];
  const local = disks.filter((d) => !d.cdrom).map((d) => d.volid ?? '?');
  if (local.length) return `it has disks on node-local storage (${local.join(', ')}); Vigil does not copy local disks during a live migration`;
  const res = (Array.isArray(pre.local_resources) ? pre.local_resources : []) as unknown[];
  if (res.length) return `it uses node-local devices (${res.map(String).join(', ')})`;
  return undefined;
}

export async function restart(ctx: OpsContext, vm: VmRef, on: HostRef): Promise<TaskRef> {
  const what = `restart ${vm.name}`;
  const vmid = safeVmid(vm.id);
  const target = safeName(on.id);
  try {
    const startedAt = ctx.clock.now();
    const [res, status, ha] = await Promise.all([resources(ctx), clusterStatus(ctx), haStatus(ctx)]);
    const g = findGuest(res, vmid, vm);
    requireNode(res, status, target);
    const view = { resources: res, status };
    if (haManaged(g, ha)) throw refused(`${what}: ${guestKey(g)} is managed by Proxmox HA, which recovers it; Vigil does not act on it`, 'ha-managed');
    if (nodeOnline(view, target) !== true) throw refused(`${what}: target node ${target} is not online`, 'target-offline', true);
    if (inMaintenance(ha, target)) throw refused(`${what}: target node ${target} is in maintenance`, 'target-maintenance');

    if (g.node !== target) {
      if (ctx.config.recovery !== 'direct') {
        throw refused(`${what}: recovery is "native": Vigil leaves guests outside Proxmox HA alone; add ${guestKey(g)} to Proxmox HA, or set recovery: direct`, 'native-mode');
      }
      // Platform preconditions of a manual recovery, checked here whatever the caller decided.
      if (status.quorate === false || status.quorate === undefined) throw refused(`${what}: the cluster is not quorate (or not a cluster); /etc/pve is read-only`, 'not-quorate', true);
      if (nodeOnline(view, g.node) !== false) throw refused(`${what}: node ${g.node} is not offline in /cluster/status; a guest of a running node is not moved`, 'node-online', true);
      await moveConfig(ctx, g, target, res, what, status.nodes.get(target)?.ip);
      ctx.reader.invalidate();
    } else if (g.status === 'running') {
      return ctx.tasks.done('restart', `${vmid}`); // an earlier attempt started it already
    }

    const api = ctx.transport.api();
    // Repeating after a lost answer: a start task of ours may be running.
    const previous = await recentTask(ctx, target, vmid, START_TASKS, since(startedAt) - 600);
    if (previous?.running) return { id: previous.upid, op: 'restart' };
    try {
      const upid = g.type === 'qemu' ? await api.nodes.$(target).qemu.$(vmid).status.start.$post({}) : await api.nodes.$(target).lxc.$(vmid).status.start.$post({});
      return { id: String(upid), op: 'restart' };
    } catch (e) {
      if (e instanceof PveNetworkError && e.sent) {
        const adopted = await recentTask(ctx, target, vmid, START_TASKS, since(startedAt));
        if (adopted) return { id: adopted.upid, op: 'restart' };
        throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: the start request got no answer and no start task for ${vmid} appeared on ${target}; trying again is safe`, { retryable: true, cause: e });
      }
      throw e;
    }
  } catch (e) {
    throw toVigilError(e, what);
  }
}

async function moveConfig(ctx: OpsContext, g: ResourceGuest, target: string, res: Resources, what: string, targetIp: string | undefined): Promise<void> {
  const ssh = ctx.ssh as SshRunner;
  const type: GuestType = g.type;
  const src = configPath(ssh.pveRoot, safeName(g.node), type, g.vmid);
  const dst = configPath(ssh.pveRoot, target, type, g.vmid);
  const host = ssh.address(target, targetIp);
  const seen = await ssh.run(host, inspectScript(src, dst));
  const [marker, ...conf] = seen.stdout.split('\n');
  if (marker === 'VIGIL:MISSING') throw new VigilError(ErrorCodes.UNKNOWN_VM, `${what}: no config for ${g.vmid} under ${src} or ${dst}`, { expected: true });
  if (marker !== 'VIGIL:AT-SOURCE' && marker !== 'VIGIL:AT-TARGET') throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: ssh ${host}: unexpected answer (${seen.stderr.trim() || seen.stdout.slice(0, 200)})`, { retryable: true });
  const cfg = parseGuestConfig(conf.join('\n'), type);
  if (cfg.lock) throw refused(`${what}: ${g.vmid}'s config carries lock "${cfg.lock}" (an operation was cut short on ${g.node}); check the guest, clear it by hand (qm/pct unlock ${g.vmid}), then Vigil restarts it`, 'locked', false, { lock: cfg.lock });
  if (cfg.hostPaths.length) throw refused(`${what}: ${g.vmid} uses host paths of ${g.node} (${cfg.hostPaths.join(', ')})`, 'local-disks');
  let replicated: boolean | undefined;
  for (const storage of cfg.storages) {
    const onTarget = res.storages.find((s) => s.storage === storage && s.node === target);
    if (!onTarget) throw refused(`${what}: storage ${storage} of ${g.vmid} is not configured on ${target}`, 'storage-missing');
    if (!onTarget.shared) {
      // Local disks can start elsewhere only from a storage-replication copy on that node (losing what changed since its last sync).
      replicated ??= parseReplicationJobs(await ctx.transport.api().cluster.replication.$get()).some((j) => j.guest === g.vmid && j.target === target && !j.disabled);
      if (!replicated) throw refused(`${what}: ${g.vmid} has disks on ${storage}, which is local to ${g.node}, and no replication job copies them to ${target}`, 'local-disks');
      ctx.logger.warn({ vmid: g.vmid, storage, target }, `${g.vmid} restarts on ${target} from its replica on ${storage}: changes since the last replication are lost`);
    }
    if (onTarget.status !== 'available') throw refused(`${what}: storage ${storage} is not available on ${target}`, 'storage-unavailable', true);
  }
  if (marker === 'VIGIL:AT-TARGET') return;
  const moved = await ssh.run(host, moveScript(src, dst));
  const out = moved.stdout.trim();
  if (out === 'VIGIL:MOVED' || out === 'VIGIL:ALREADY') {
    ctx.logger.info({ vmid: g.vmid, from: g.node, to: target }, `moved the config of ${g.vmid} from ${g.node} to ${target} (${out === 'VIGIL:MOVED' ? 'moved' : 'already there'})`);
    return;
  }
  if (out === 'VIGIL:CONFLICT') throw refused(`${what}: both ${src} and ${dst} exist; resolve by hand`, 'config-conflict');
  throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: moving ${src} failed on ${host}: ${moved.stderr.trim() || out || `exit ${moved.code}`}`, { retryable: true });
}

export async function setMaintenance(ctx: OpsContext, host: HostRef, on: boolean): Promise<TaskRef> {
  const what = `${on ? 'enter' : 'exit'} maintenance on ${host.name}`;
  const node = safeName(host.id);
  try {
    const [res, status] = await Promise.all([resources(ctx), clusterStatus(ctx)]);
    requireNode(res, status, node);
    if (!ctx.ssh) throw refused(`${what}: Proxmox node maintenance is CLI-only (ha-manager); give ssh in the cluster entry`, 'no-ssh');
    if (nodeOnline({ resources: res, status }, node) !== true) throw refused(`${what}: node ${node} is not online`, 'node-offline', on);
    const ssh = ctx.ssh;
    const addr = ssh.address(node, status.nodes.get(node)?.ip);
    const r = await ssh.run(addr, `${ssh.haManager} crm-command node-maintenance ${on ? 'enable' : 'disable'} ${node}`);
    if (r.code !== 0) throw refused(`${what}: ha-manager said: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`, 'ha-manager');
    return ctx.tasks.add({ op: 'maintenance', poll: () => maintenanceState(ctx, node, on) }, node);
  } catch (e) {
    throw toVigilError(e, what);
  }
}

/** Done when the LRM reports the mode asked for and, entering, nothing runs on the node any more. */
async function maintenanceState(ctx: OpsContext, node: string, on: boolean): Promise<TaskState> {
  const [res, ha] = await Promise.all([resources(ctx), haStatus(ctx)]);
  if (inMaintenance(ha, node) !== on) return { state: 'running' };
  if (!on) return { state: 'success' };
  const here = res.guests.filter((g) => g.node === node && !g.template && g.status === 'running');
  const moving = here.filter((g) => haManaged(g, ha) && ha.services.get(guestKey(g))?.crmState !== 'error');
  if (moving.length) return { state: 'running' };
  if (!here.length) return { state: 'success' };
  return {
    state: 'error',
    message: `node ${node} is in Proxmox maintenance, but these guests still run on it: ${here.map((g) => `${g.vmid}${g.name ? ` (${g.name})` : ''}`).join(', ')} (not moved by Proxmox HA; migrate them)`,
    code: 'guests-remaining',
    retryable: false,
  };
}
