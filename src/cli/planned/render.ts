/** Planned work for people: the plan before it runs, and what happened after. */
import Table from 'cli-table3';
import { describe } from '../../execute/executor.js';
import type { PlanResult } from '../../execute/plan-runner.js';
import type { Action } from '../../model/actions.js';
import type { LoadFigures, PlannedWork } from '../../plan/planned-work.js';

export function renderPlan(p: PlannedWork, via: string): string {
  const out: string[] = [`Plan: ${p.title}`, `  cluster ${p.cluster}; carried out by ${via}`];
  const actions = p.phases.flatMap((phase, i) => phase.map((a) => ({ step: i + 1, a })));
  if (actions.length) {
    const t = table(['STEP', 'ACTION', 'VM / HOST', 'FROM', 'TO', 'WHY'], [6, null, null, null, null, 64]);
    for (const { step, a } of actions) t.push([String(step), verb(a), subject(a), from(a), to(a), a.reason]);
    out.push(t.toString());
    if (p.phases.length > 1) out.push('  A step starts only when every action of the step before has succeeded.');
  }
  if (p.blocked.length) {
    out.push('Cannot move:');
    const t = table(['VM', 'ON', 'WHY'], [null, null, 80]);
    for (const b of p.blocked) t.push([b.vm, b.host, b.reason]);
    out.push(t.toString());
  }
  for (const n of p.notes) out.push(`Note: ${n}`);
  if (p.hosts.length) {
    const t = table(['HOST', 'STATE', 'MEMORY USE', 'CPU USE', 'VMS', ''], [null, null, null, null, null, null]);
    for (const h of p.hosts) {
      const changed = h.before.usedMemoryGiB !== h.after.usedMemoryGiB || h.before.usedCpu !== h.after.usedCpu;
      t.push([h.host, h.state, change(h.before, h.after, 'memoryPercent'), change(h.before, h.after, 'cpuPercent'), h.before.vms === h.after.vms ? String(h.before.vms) : `${h.before.vms} -> ${h.after.vms}`, [h.role === 'evacuated' ? 'enters maintenance' : h.role === 'resumed' ? 'leaves maintenance' : h.role === 'failover' ? 'failover host (no planned VMs)' : '', changed ? '*' : ''].filter(Boolean).join(' ')]);
    }
    out.push('Host load (share of what policy allows; * = changes):', t.toString());
    const s = p.spread;
    out.push(`Spread across the hosts that take planned VMs (standard deviation, percentage points): host load ${s.before.load} -> ${s.after.load} (memory ${s.before.memory} -> ${s.after.memory}, CPU ${s.before.cpu} -> ${s.after.cpu})`);
  }
  if (p.refused) out.push(`Refused: ${p.refused}`);
  return out.join('\n');
}

/** What happened, in a few lines: counts, then every failure and everything not started, with the reason. */
export function renderResult(r: PlanResult): string {
  const total = r.moves.length;
  const head = r.failed || r.notStarted ? 'Partly done' : 'Done';
  const lines = [`${head}: ${r.title}`, `  ${r.succeeded} of ${total} action(s) succeeded, ${r.failed} failed, ${r.notStarted} not started${r.stopped ? ' (stopped by the operator)' : ''}`];
  const failed = r.moves.filter((m) => m.state === 'failed');
  if (failed.length) {
    lines.push('Failed:');
    for (const m of failed) lines.push(`  ${describe(m.action)}: ${m.message ?? 'failed'}`);
  }
  const skipped = r.moves.filter((m) => m.state === 'not-started');
  if (skipped.length) {
    lines.push('Not started:');
    for (const m of skipped) lines.push(`  ${describe(m.action)}: ${(m.message ?? '').replace(/^not started: /, '')}`);
  }
  const maintenance = r.moves.find((m) => m.action.type === 'maintenance');
  if (maintenance && maintenance.action.type === 'maintenance' && maintenance.state !== 'succeeded') {
    lines.push(`${maintenance.action.host} was NOT ${maintenance.action.enter ? 'put into' : 'taken out of'} maintenance.`);
  }
  return lines.join('\n');
}

function verb(a: Action): string {
  switch (a.type) {
    case 'migrate':
      return a.byRestart ? 'restart-migrate (short outage)' : a.live ? 'live-migrate' : 'migrate (cold)';
    case 'maintenance':
      return a.enter ? 'enter maintenance' : 'exit maintenance';
    case 'poweroff':
      return 'power off';
    case 'restart':
      return 'restart';
  }
}

function subject(a: Action): string {
  return a.type === 'maintenance' ? a.host : a.vm;
}

function from(a: Action): string {
  return a.type === 'migrate' || a.type === 'restart' ? a.from : a.type === 'poweroff' ? a.host : '';
}

function to(a: Action): string {
  return a.type === 'migrate' || a.type === 'restart' ? a.to : '';
}

function change(b: LoadFigures, a: LoadFigures, key: 'memoryPercent' | 'cpuPercent'): string {
  return b[key] === a[key] ? `${Math.round(b[key])}%` : `${Math.round(b[key])}% -> ${Math.round(a[key])}%`;
}

function table(head: string[], widths: (number | null)[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true }, colWidths: widths, wordWrap: true });
}
