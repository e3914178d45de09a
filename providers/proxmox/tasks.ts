/**
 * Following operations to their end. A Proxmox task is named by its UPID
 * (`UPID:node:pid:pstart:starttime:type:id:user:`) and read from
 * /nodes/{node}/tasks/{upid}/status; a stopped task with an exit status
 * other than OK (or "WARNINGS: n") failed, and its log tail says why.
 *
 * Some Vigil operations are more than one Proxmox task (HA node
 * maintenance waits for the CRM to move guests), or none at all (a
 * migration an earlier attempt already finished): those are Vigil tasks,
 * `vigil:...`, kept in this process.
 */
import type { TaskRef, TaskState } from '../../src/provider.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { lockIn } from './errors.js';
import { rows } from './raw.js';
import type { PveTransport } from './transport.js';

const UPID = /^UPID:([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):/;

export interface Upid {
  readonly node: string;
  readonly type: string;
  readonly id: string;
  /** Unix seconds. */
  readonly starttime: number;
}

export function parseUpid(upid: string): Upid | undefined {
  const m = UPID.exec(upid);
  if (!m) return undefined;
  return { node: m[1] as string, starttime: parseInt(m[5] as string, 16), type: m[6] as string, id: m[7] as string };
}

export interface PveTaskStatus {
  readonly status: string;
  readonly exitstatus?: string;
}

export function taskSucceeded(exitstatus: string | undefined): boolean {
  return exitstatus === 'OK' || /^WARNINGS: \d+$/.test(exitstatus ?? '');
}

export async function pveTaskState(transport: PveTransport, upid: string): Promise<TaskState> {
  const u = parseUpid(upid);
  if (!u) throw new VigilError(ErrorCodes.UNKNOWN_TASK, `"${upid}" is not a Proxmox task id (UPID)`);
  const api = transport.api();
  const endpoint = `/api2/json/nodes/${u.node}/tasks/{upid}/status`;
  const data = (await api.nodes.$(u.node).tasks.$(upid).status.$get()) as unknown;
  if (typeof data !== 'object' || data === null || typeof (data as { status?: unknown }).status !== 'string') {
    throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `GET ${endpoint}: malformed answer: no "status"`, { retryable: true, details: { reason: 'malformed', endpoint } });
  }
  const s = data as PveTaskStatus;
  if (s.status === 'running') return { state: 'running' };
  if (s.status !== 'stopped') return { state: 'running' };
  if (taskSucceeded(s.exitstatus)) return { state: 'success' };
  const tail = await logTail(transport, u.node, upid).catch(() => [] as string[]);
  const exit = s.exitstatus ?? 'no exit status';
  const lock = lockIn(exit) ?? tail.map(lockIn).find(Boolean);
  return {
    state: 'error',
    message: `${u.type} ${u.id} on ${u.node} failed: ${exit}${tail.length ? ` — log: ${tail.join(' | ')}` : ''}`,
    code: lock ? 'locked' : 'task-failed',
    retryable: Boolean(lock),
  };
}

/** The last lines of a task's log (the failure is usually in the last few). */
export async function logTail(transport: PveTransport, node: string, upid: string, lines = 5): Promise<string[]> {
  const endpoint = `/api2/json/nodes/${node}/tasks/{upid}/log`;
  const data = await transport.api().nodes.$(node).tasks.$(upid).log.$get({ limit: 5000 });
  return rows(data, endpoint)
    .map((r) => (typeof r.t === 'string' ? r.t : ''))
    .filter((t) => t && t !== 'TASK OK')
    .slice(-lines);
}

/** A Vigil-side task: polled until it says it is done. */
export interface VigilTask {
  readonly op: string;
  poll(): Promise<TaskState>;
}

export class VigilTasks {
  private seq = 0;
  private readonly tasks = new Map<string, { task: VigilTask; final?: TaskState }>();

  add(task: VigilTask, subject: string): TaskRef {
    const id = `vigil:${task.op}:${++this.seq}:${subject}`;
    this.tasks.set(id, { task });
    return { id, op: task.op };
  }

  /** A task that is already done (the work was found finished). */
  done(op: string, subject: string): TaskRef {
    return this.add({ op, poll: async () => ({ state: 'success' }) }, subject);
  }

  has(id: string): boolean {
    return this.tasks.has(id);
  }

  async state(id: string): Promise<TaskState> {
    const t = this.tasks.get(id);
    if (!t) throw new VigilError(ErrorCodes.UNKNOWN_TASK, `task ${id} is not known to this Vigil process (it may have restarted); the next poll shows the truth`);
    if (t.final) return t.final;
    const s = await t.task.poll();
    if (s.state === 'success' || s.state === 'error') t.final = s;
    return s;
  }
}
