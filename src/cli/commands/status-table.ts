/** The human-readable form of a status report. */
import Table from 'cli-table3';
import { formatGiB } from '../../model/units.js';
import type { ClusterStatus, StatusDatastore, StatusReport } from '../../service/status.js';
import { describeFullIn } from '../../storage/forecast.js';
import { formatDuration } from '../../clock/duration.js';
import { describeCapacity } from '../../plan/capacity.js';

export function renderStatus(report: StatusReport): string {
  const out: string[] = [];
  const source = report.source === 'service' ? 'from the running controller' : report.source === 'direct' ? 'read directly (no controller answered)' : 'from an inventory file';
  out.push(`Status ${source}, ${report.generatedAt}`);
  for (const c of report.clusters) out.push('', ...renderCluster(c));
  return out.join('\n');
}

function renderCluster(c: ClusterStatus): string[] {
  const lines: string[] = [];
  const frozen = c.frozen ? `FROZEN${c.frozenReason ? ` (${c.frozenReason})` : ''}` : 'no';
  lines.push(`Cluster ${c.name}  provider ${c.provider}  mode ${c.mode}  frozen ${frozen}${c.lastPoll ? `  last poll ${c.lastPoll}` : ''}`);
  if (c.role) lines.push(`  Led by ${c.leader ?? 'no replica yet'}; this replica: ${c.role}`);
  if (c.lastError) lines.push(`  ! cannot read the cluster: ${c.lastError}`);
  const hosts = table(['HOST', 'STATE', 'HEALTH', 'CPU', 'MEMORY', 'VMS', 'MEM USED', 'VMS ON HOST']);
  for (const h of c.hosts) {
    const pct = h.memoryGiB ? Math.round((100 * h.usedMemoryGiB) / h.memoryGiB) : 0;
    const names = c.vms.filter((v) => v.host === h.name).map((v) => (v.power === 'on' ? v.name : `${v.name}(${v.power})`));
    hosts.push([h.name, h.state, h.health, String(h.cpu), formatGiB(h.memoryGiB), String(h.vms), `${formatGiB(h.usedMemoryGiB)} (${pct}%)`, wrap(names.join(' '), 48)]);
  }
  lines.push(hosts.toString());
  if (c.datastores.length) {
    const ds = table(['DATASTORE', 'CAPACITY', 'FREE', 'HOSTS', 'ACCESSIBLE', 'FORECAST']);
    for (const d of c.datastores) {
      const access = !d.accessible ? 'no' : d.inaccessibleOn.length ? `lost on ${d.inaccessibleOn.join(', ')}` : 'yes';
      const degraded = d.degradedOn?.length ? `${access === 'yes' ? '' : '; '}degraded on ${d.degradedOn.join(', ')}` : '';
      ds.push([d.name, d.capacityGiB === null ? 'unknown' : formatGiB(d.capacityGiB), freeCell(d), String(d.hosts.length), `${access === 'yes' && degraded ? '' : access}${degraded}`, typeof d.fullInDays === 'number' ? describeFullIn(d.fullInDays) : '-']);
    }
    lines.push(ds.toString());
  }
  for (const v of c.vms) if (v.protection?.state === 'unprotected') lines.push(`Unprotected ${v.name} (on ${v.host}): ${v.protection.reason}`);
  for (const v of c.vms) {
    const r = v.replication;
    if (!r) continue;
    const age = r.lagSeconds === null ? 'never synced' : `last sync ${formatDuration(r.lagSeconds * 1000)} ago`;
    lines.push(`Replica of ${v.name} on ${r.target}: ${age}${r.rpoSeconds !== undefined ? `, RPO ${formatDuration(r.rpoSeconds * 1000)}${r.overRpo ? '  << OVER RPO' : ''}` : ''} (${r.state}${r.healthy ? '' : ', unhealthy'})`);
  }
  if (c.capacity) lines.push(`Failover capacity: ${describeCapacity(c.capacity)}${c.capacity.ok ? '' : '  << BELOW POLICY'}`);
  if (c.inflight.length) lines.push(`In flight: ${c.inflight.map((a) => (a.type === 'maintenance' ? `${a.host} maintenance` : a.type === 'poweroff' ? `${a.vm} power off` : `${a.vm} -> ${a.to}`)).join(', ')}`);
  for (const u of c.unplaced) lines.push(`Cannot restart ${u.vm} (from ${u.from}): ${u.reason}`);
  for (const f of c.fencing) lines.push(`Fencing ${f.host}: ${f.state}${f.state === 'failed' ? ` after ${f.attempts} attempt(s): ${f.detail}` : ''}`);
  for (const w of c.awaitingFence) lines.push(`Waiting for a fence: ${w.vm} (on ${w.from}): ${w.reason}`);
  if (c.recent.length) {
    lines.push('Recent decisions:');
    for (const d of c.recent.slice(-10)) lines.push(`  ${new Date(d.at).toISOString().slice(11, 19)} ${d.kind} ${d.subject}: ${d.message}`);
  }
  return lines;
}

/** Free space with its share and level: `120 GiB (12%, warning)`; `unknown` when a figure is missing, never 0. */
function freeCell(d: StatusDatastore): string {
  if (d.freeGiB === null) return 'unknown';
  const pct = typeof d.freePercent === 'number' ? `${Math.round(d.freePercent)}%` : undefined;
  const level = d.level === 'warning' || d.level === 'critical' ? d.level.toUpperCase() : undefined;
  const extra = [pct, level].filter(Boolean).join(', ');
  return `${formatGiB(d.freeGiB)}${extra ? ` (${extra})` : ''}`;
}

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
}

function wrap(text: string, width: number): string {
  const words = text.split(' ');
  const rows: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + w.length + 1 > width) {
      rows.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) rows.push(cur);
  return rows.join('\n');
}
