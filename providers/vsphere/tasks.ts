/**
 * vSphere tasks: reading a Task's info and following it to its end. A
 * finished task is `success` or `error` with the fault type as code; the
 * platform's own words are the message.
 */
import type { Clock } from '../../src/clock/clock.js';
import type { TaskState } from '../../src/provider.js';
import { isRetryableFault } from './errors.js';
import { filterSpec, objectSpec, retrieveAll } from './props.js';
import type { Session } from './session.js';
import { child, moRef, text, xsiType, type MoRef } from './xml.js';

export interface TaskInfo {
  readonly state: 'queued' | 'running' | 'success' | 'error';
  readonly progress?: number;
  readonly result?: MoRef;
  readonly fault?: { readonly type: string; readonly message: string };
}

export async function readTask(session: Session, task: MoRef, signal?: AbortSignal): Promise<TaskInfo> {
  const sc = await session.serviceContent(signal);
  const { objects, prefixes } = await retrieveAll(session, sc.propertyCollector, filterSpec({ Task: ['info.state', 'info.error', 'info.result', 'info.progress'] }, objectSpec(task, false)), 10, signal);
  const props = objects[0]?.props;
  const state = text(props?.get('info.state'));
  if (state !== 'queued' && state !== 'running' && state !== 'success' && state !== 'error') {
    // A task whose state vCenter did not report is still in flight as far as Vigil can tell.
    return { state: 'running' };
  }
  const progress = Number(text(props?.get('info.progress')));
  const result = moRef(props?.get('info.result'));
  let fault: TaskInfo['fault'];
  if (state === 'error') {
    const err = props?.get('info.error');
    const type = xsiType(child(err, 'fault'), prefixes) ?? 'Unknown';
    const message = text(child(err, 'localizedMessage'))?.trim() ?? '';
    fault = { type, message };
  }
  return { state, ...(Number.isFinite(progress) ? { progress } : {}), ...(result ? { result } : {}), ...(fault ? { fault } : {}) };
}

export function taskState(info: TaskInfo, what: string): TaskState {
  switch (info.state) {
    case 'queued':
    case 'running':
      return info.progress === undefined ? { state: info.state } : { state: info.state, progress: info.progress };
    case 'success':
      return { state: 'success' };
    case 'error': {
      const f = info.fault ?? { type: 'Unknown', message: '' };
      return { state: 'error', message: `${what}: ${f.type}${f.message ? `: ${f.message}` : ''}`, code: f.type, retryable: isRetryableFault(f.type) };
    }
  }
}

/** Polls a task until it ends. Following is protocol, not retrying: the task runs once. */
export async function followTask(session: Session, task: MoRef, clock: Clock, pollMs: number, signal?: AbortSignal): Promise<TaskInfo> {
  for (;;) {
    const info = await readTask(session, task, signal);
    if (info.state === 'success' || info.state === 'error') return info;
    await clock.sleep(pollMs);
  }
}
