/**
 * Following long operations. Design: nothing long runs inside an
 * invocation, because one session serves the cluster and a migration that
 * held it would stop snapshots. So:
 * - migrations and role starts run as PowerShell jobs (Start-Job) in the
 *   remote session of the node that started them; the starting call returns
 *   the job's id at once;
 * - a drain is asynchronous on the platform itself (Suspend-ClusterNode
 *   -Drain without -Wait) and followed by the node's DrainStatus;
 * - resume is quick and followed by the node's state.
 * `task()` runs the task-status script, which reports the job (if the
 * session that owns it still lives) and the platform's truth (where the VM
 * is, its role's state, the node's state). `decide()` below turns that into
 * a TaskState. A job lost with a replaced session is not a failure by
 * itself: the platform's truth decides, and if it cannot (the VM is still
 * where it was), the task fails as retryable with the reason.
 */
import { z } from 'zod';
import type { TaskState } from '../../src/provider.js';

export type TaskKind = 'migrate' | 'start-role' | 'register-vm' | 'drain' | 'resume';

export interface TaskRecord {
  readonly id: string;
  readonly kind: TaskKind;
  readonly createdAt: number;
  readonly clustered: boolean;
  readonly vmId?: string;
  readonly group?: string;
  /** Host the VM or node work is about (drain, resume: the node). */
  readonly node?: string;
  readonly from?: string;
  readonly to?: string;
  readonly job?: { readonly node: string; readonly id: string };
  /** Migrations: false for a cold one (a VM that is off), which is done on arriving, not running. */
  readonly live?: boolean;
  /** Once a task has ended it stays ended. */
  final?: TaskState;
}

const jobFacts = z.object({ found: z.boolean(), state: z.string().nullable().optional(), reason: z.string().nullable().optional() });
const groupFacts = z.object({ found: z.boolean(), owner: z.string().optional(), state: z.string().optional() });
const nodeFacts = z.object({ found: z.boolean(), state: z.string().optional(), status: z.string().optional(), drainStatus: z.string().optional(), roles: z.array(z.string()).optional() });
const vmOnHost = z.object({ found: z.boolean().nullable(), state: z.string().optional(), status: z.string().optional(), error: z.string().optional() });

export const taskFactsSchema = z.object({
  job: jobFacts.optional(),
  group: groupFacts.nullable().optional(),
  node: nodeFacts.nullable().optional(),
  vm: z.record(z.string(), vmOnHost).optional(),
});

export type TaskFacts = z.infer<typeof taskFactsSchema>;

/** The task-status script's input for a task. */
export function statusInput(t: TaskRecord, seeds: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = { seeds };
  if (t.job) input.job = t.job;
  if (t.clustered && t.group && t.kind !== 'drain' && t.kind !== 'resume') input.group = t.group;
  if ((t.kind === 'drain' || t.kind === 'resume') && t.node) input.node = t.node;
  if (!t.clustered && t.vmId) input.vm = { id: t.vmId, hosts: [t.to, t.from].filter((h): h is string => Boolean(h)) };
  return input;
}

const RUNNING_JOB = /^(notstarted|running|stopping|suspending|suspended|atbreakpoint)$/i;

export function decide(t: TaskRecord, f: TaskFacts): TaskState {
  const job = f.job;
  const jobRunning = job?.found === true && RUNNING_JOB.test(job.state ?? '');
  const jobFailed = job?.found === true && /^(failed|stopped|blocked|disconnected)$/i.test(job.state ?? '');
  const jobReason = job?.reason ? job.reason : `the job ended ${job?.state ?? ''}`.trim();
  const lost = t.job !== undefined && job?.found === false;

  switch (t.kind) {
    case 'migrate':
    case 'start-role':
    case 'register-vm': {
      const verb = t.kind === 'migrate' ? 'migration' : 'start';
      // Where the platform says the VM is, and whether it runs there.
      let at: string | undefined;
      let up = false;
      let failedThere = false;
      if (t.clustered) {
        if (!f.group?.found) return { state: 'error', message: `the cluster role ${t.group ?? ''} is gone`, retryable: false };
        at = f.group.owner;
        up = /^(online|partialonline)$/i.test(f.group.state ?? '');
        failedThere = /^failed$/i.test(f.group.state ?? '');
      } else {
        const onTarget = t.to ? f.vm?.[t.to] : undefined;
        if (onTarget?.found) {
          at = t.to;
          up = onTarget.state === 'Running';
        } else if (t.from && f.vm?.[t.from]?.found) at = t.from;
      }
      const arrived = at !== undefined && at.toLowerCase() === t.to?.toLowerCase();
      if (jobRunning) return { state: 'running' };
      if (jobFailed) return { state: 'error', message: `${verb} of the VM to ${t.to ?? '?'} failed: ${jobReason}`, retryable: false };
      if (arrived && up) return { state: 'success' };
      if (arrived && failedThere) return { state: 'error', message: `the role is Failed on ${t.to ?? '?'}`, retryable: false };
      // A cold migration moves a VM that is off: it is done once the VM is there, off as it was.
      if (arrived && t.kind === 'migrate' && t.live === false && (job?.found || lost)) return { state: 'success' };
      if (job?.found) {
        // The job completed, yet the VM is not running where it should: say what the platform shows.
        if (arrived && !up && t.kind !== 'migrate') return { state: 'running' };
        return { state: 'error', message: `${verb} finished but the VM is ${at ? `on ${at}` : 'nowhere to be seen'}${arrived ? ' and not running' : ''}`, retryable: false };
      }
      if (lost) {
        if (arrived && !up && t.kind !== 'migrate') return { state: 'running' };
        return { state: 'error', message: `lost track of the ${verb}: its PowerShell session was replaced, and the VM is ${at ? `on ${at}` : 'not found'}`, retryable: true };
      }
      return { state: 'running' };
    }
    case 'drain': {
      const n = f.node;
      if (!n?.found) return { state: 'error', message: `node ${t.node ?? ''} is gone from the cluster`, retryable: false };
      const drain = (n.drainStatus ?? '').toLowerCase();
      const state = (n.state ?? '').toLowerCase();
      if (state === 'down') return { state: 'error', message: `node ${t.node ?? ''} went down during the drain`, retryable: false };
      if (drain === 'failed') {
        const left = n.roles ?? [];
        return { state: 'error', message: `the drain of ${t.node ?? ''} failed${left.length ? `; roles still on it: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', ...' : ''}` : ''}`, retryable: false };
      }
      if (state === 'paused' && (drain === 'completed' || (drain === 'notinitiated' && !(n.roles ?? []).length))) return { state: 'success' };
      return { state: 'running' };
    }
    case 'resume': {
      const n = f.node;
      if (!n?.found) return { state: 'error', message: `node ${t.node ?? ''} is gone from the cluster`, retryable: false };
      const state = (n.state ?? '').toLowerCase();
      if (state === 'up') return { state: 'success' };
      if (state === 'paused' || state === 'joining') return { state: 'running' };
      return { state: 'error', message: `node ${t.node ?? ''} is ${n.state ?? 'unknown'} after resume`, retryable: false };
    }
  }
}
