/** The progress display: one plain line per event off a terminal; a block redrawn in place on one. */
import { describe, expect, it } from 'vitest';
import type { PlanEvent } from '../../src/execute/plan-runner.js';
import type { Action } from '../../src/model/actions.js';
import type { PlannedWork } from '../../src/plan/planned-work.js';
import { liveProgress, plainProgress } from '../../src/cli/planned/progress.js';

const a = (vm: string): Action => ({ type: 'migrate', cluster: 'c', vm, vmId: vm, from: 'h1', to: 'h2', toId: 'h2', live: true, reason: '' });
const m: Action = { type: 'maintenance', cluster: 'c', host: 'h1', hostId: 'h1', enter: true, reason: '' };
const zero = { load: 0, memory: 0, cpu: 0 };
const plan: PlannedWork = { kind: 'evacuate', cluster: 'c', at: 0, title: 'evacuate h1: 2 live migrations, then enter maintenance', phases: [[a('web-1'), a('db-1')], [m]], blocked: [], notes: [], hosts: [], spread: { before: zero, after: zero } };
const ev = (seq: number, at: number, type: PlanEvent['type'], action: Action | undefined, message: string): PlanEvent => ({ seq, at, type, ...(action ? { action, subject: action.type === 'maintenance' ? action.host : action.vm } : {}), message });

/** A row's subject and what happens to it, in the display's columns. */
const row = (subject: string, what: string) => `${subject.padEnd(14)} ${what}`.padEnd(36);

describe('progress', () => {
  it('off a terminal: one line per event, with the time since the first', () => {
    const lines: string[] = [];
    const p = plainProgress((l) => lines.push(l));
    p.event(ev(1, 1_000, 'started', a('web-1'), 'live-migrate web-1 h1 -> h2'));
    p.event(ev(2, 3_500, 'failed', a('web-1'), 'live-migrate web-1 h1 -> h2 failed: boom'));
    p.close();
    expect(lines).toEqual(['   +0.0s started     live-migrate web-1 h1 -> h2', '   +2.5s failed      live-migrate web-1 h1 -> h2 failed: boom']);
  });

  it('on a terminal: the overall count and a line per action, redrawn in place', () => {
    let out = '';
    let now = 0;
    const stream = { columns: 120, rows: 40, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    const p = liveProgress(stream, plan, () => now);
    expect(out).toBe(
      [
        'evacuate h1: 2 live migrations, then enter maintenance',
        '[------------------------] 0/3 done, 0 running, 0 failed  0.0s',
        `  · ${row('web-1', 'h1 -> h2')} queued`,
        `  · ${row('db-1', 'h1 -> h2')} queued`,
        `  · ${row('h1', 'enter maintenance')} queued`,
        '',
      ].join('\n'),
    );
    out = '';
    now = 4_000;
    p.event(ev(1, 1_000, 'started', a('web-1'), ''));
    p.event(ev(2, 3_000, 'succeeded', a('web-1'), 'live-migrate web-1 h1 -> h2 in 2.0s'));
    p.event(ev(3, 3_000, 'started', a('db-1'), ''));
    p.close();
    const last = out.split('\x1b[5F\x1b[0J').at(-1) as string;
    expect(out.startsWith('\x1b[5F\x1b[0J')).toBe(true);
    expect(last.split('\n').slice(1, 4)).toEqual([
      '[########----------------] 1/3 done, 1 running, 0 failed  4.0s',
      `  ✓ ${row('web-1', 'h1 -> h2')} done in 2.0s`,
      `  ▶ ${row('db-1', 'h1 -> h2')} running 1.0s`,
    ]);
  });
});
