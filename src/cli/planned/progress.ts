/**
 * Progress of a running plan. On a terminal: a live block, redrawn in
 * place, with the overall count and one line per action (state and time).
 * Anywhere else (a pipe, a log, --json): one plain line per event.
 */
import type { PlanEvent } from '../../execute/plan-runner.js';
import type { Action } from '../../model/actions.js';
import type { PlannedWork } from '../../plan/planned-work.js';

export interface Progress {
  event(e: PlanEvent): void;
  close(): void;
}

export function plainProgress(write: (line: string) => void): Progress {
  let origin: number | undefined;
  return {
    event(e) {
      origin ??= e.at;
      write(`${`+${((e.at - origin) / 1000).toFixed(1)}s`.padStart(8)} ${e.type.padEnd(11)} ${e.message}`);
    },
    close() {},
  };
}

interface Row {
  readonly action: Action;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'not-started';
  startedAt?: number;
  finishedAt?: number;
  message?: string;
}

const MARK: Record<Row['state'], string> = { queued: '·', running: '▶', succeeded: '✓', failed: '✗', 'not-started': '-' };

export function liveProgress(stream: NodeJS.WriteStream, plan: PlannedWork, now: () => number = Date.now): Progress {
  const rows: Row[] = plan.phases.flat().map((action) => ({ action, state: 'queued' }));
  const begun = now();
  let drawn = 0;
  let note = '';
  let closed = false;
  const draw = (): void => {
    const width = Math.max(40, (stream.columns || 100) - 1);
    const lines = [plan.title, ...body(rows, now(), begun, note, Math.max(4, (stream.rows || 30) - 4))].map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    stream.write(`${drawn ? `\x1b[${drawn}F\x1b[0J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  draw();
  return {
    event(e) {
      if (closed) return;
      if (e.type === 'stopping') note = e.message;
      const row = e.action ? rows.find((r) => same(r.action, e.action as Action)) : undefined;
      if (row) {
        if (e.type === 'started') {
          row.state = 'running';
          row.startedAt = e.at;
        } else if (e.type === 'succeeded' || e.type === 'failed' || e.type === 'not-started') {
          row.state = e.type;
          row.finishedAt = e.at;
          row.message = e.message;
        }
      }
      draw();
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      draw();
    },
  };
}

function body(rows: readonly Row[], t: number, begun: number, note: string, room: number): string[] {
  const count = (s: Row['state']) => rows.filter((r) => r.state === s).length;
  const done = count('succeeded') + count('failed') + count('not-started');
  const width = 24;
  const filled = rows.length ? Math.round((width * done) / rows.length) : width;
  const head = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${rows.length} done, ${count('running')} running, ${count('failed')} failed  ${secs(t - begun)}`;
  const lines = rows.map((r) => line(r, t));
  // Too many to show: running and failed ones first, then the most recent, then what is queued.
  const shown = lines.length <= room ? lines : [...rows.map((r, i) => ({ r, i })).filter(({ r }) => r.state === 'running' || r.state === 'failed').map(({ i }) => lines[i] as string).slice(0, room - 1), `  ... and ${lines.length - Math.min(room - 1, count('running') + count('failed'))} more`];
  return [head, ...shown, ...(note ? [note] : [])];
}

function line(r: Row, t: number): string {
  const a = r.action;
  const what = a.type === 'migrate' ? `${a.vm.padEnd(14)} ${a.from} -> ${a.to}` : a.type === 'maintenance' ? `${a.host.padEnd(14)} ${a.enter ? 'enter' : 'exit'} maintenance` : a.type === 'poweroff' ? `${a.vm.padEnd(14)} power off on ${a.host}` : a.vm;
  const when = r.state === 'running' && r.startedAt !== undefined ? `running ${secs(t - r.startedAt)}` : r.state === 'succeeded' && r.startedAt !== undefined && r.finishedAt !== undefined ? `done in ${secs(r.finishedAt - r.startedAt)}` : r.state === 'failed' || r.state === 'not-started' ? (r.message ?? r.state) : r.state;
  return `  ${MARK[r.state]} ${what.padEnd(36)} ${when}`;
}

function same(a: Action, b: Action): boolean {
  return a.type === b.type && (a.type === 'maintenance' ? a.host === (b as typeof a).host : a.vm === (b as { vm: string }).vm);
}

function secs(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
