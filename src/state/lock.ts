/**
 * One controller per state directory. `<stateDir>/vigil.lock` names the
 * process that holds it (pid, host, start time). A lock left by a process
 * that is gone (killed, crashed, host rebooted) is taken over at once: no
 * waiting for a timeout, so systemd can restart a crashed controller
 * immediately. A lock held by a live process, or by another host (whose
 * processes cannot be checked from here), is refused.
 *
 * Files appear whole: each is written aside, synced, then linked in (which
 * fails if the name exists, like O_EXCL) or renamed over. Taking over a
 * stale lock goes through a claim file named after it, created the same
 * exclusive way, so of several starters exactly one replaces it; a claimer
 * that dies mid-way leaves a claim that is itself superseded the same way.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes, VigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { fsyncDir, unlinkQuietly, writeFully } from './durable-fs.js';

export const LOCK_FILE = 'vigil.lock';
const CLAIM_PREFIX = `${LOCK_FILE}.claim-`;
const TMP = /^vigil\.lock\.(\d+)\.[0-9a-f]+\.tmp$/;

/** What a lock (or claim) file holds. */
export interface LockOwner {
  readonly vigil: 'lock';
  /** Unique to this acquisition: tells two locks of one pid apart. */
  readonly token: string;
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the holder took the lock. */
  readonly started: string;
  /** Linux: the kernel's boot id; a lock from an earlier boot is stale. */
  readonly bootId?: string;
  /** Linux: the holder's start time in clock ticks since boot; a different one means the pid was reused. */
  readonly procStart?: string;
}

export interface LockOptions {
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  /** How long to wait for another starter that is taking over a stale lock right now (default 2 s). */
  readonly settleMs?: number;
}

export class StateLock {
  private released = false;
  private readonly onExit = (): void => this.release();

  private constructor(
    readonly path: string,
    readonly owner: LockOwner,
    /** The stale holder this lock replaced, if any. */
    readonly tookOver: LockOwner | undefined,
  ) {
    // Best effort: a normal exit releases; a signal the process does not handle or SIGKILL does not, and the next start takes the stale lock over.
    process.once('exit', this.onExit);
  }

  /** Takes the lock of `stateDir` or throws VIGIL_E_STATE_LOCKED saying who holds it. */
  static acquire(stateDir: string, options: LockOptions = {}): StateLock {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, LOCK_FILE);
    const me = ownerOfThisProcess();
    const settleMs = options.settleMs ?? 2_000;
    const started = Date.now();
    for (let attempt = 0; attempt < 10_000; attempt++) {
      if (publish(stateDir, path, me)) return new StateLock(path, me, undefined);
      const held = readOwner(path);
      if (held === 'missing') continue;
      if (held === 'unreadable') throw unreadableLock(stateDir, path);
      if (held.hostname !== me.hostname) throw otherHost(stateDir, path, held, me.hostname);
      if (isAlive(held)) throw lockedBy(stateDir, path, held);
      const r = supersede(stateDir, path, held, me);
      if (r.kind === 'won') {
        options.logger?.warn(
          { path, stalePid: held.pid, staleHost: held.hostname, staleStarted: held.started },
          `state lock: pid ${held.pid} (started ${held.started}) is gone; took its lock over`,
        );
        return new StateLock(path, me, held);
      }
      if (r.kind === 'busy') {
        if (Date.now() - started > settleMs) throw lockedBy(stateDir, path, r.claimer, 'is taking over the lock of a stopped controller');
        sleep(5 + Math.floor(Math.random() * 20));
      }
    }
    throw new VigilError(ErrorCodes.STATE_LOCKED, `could not take the lock ${path}: it kept changing hands`, { details: { path } });
  }

  /** Removes the lock if it is still this process's. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    const held = readOwner(this.path);
    if (typeof held === 'object' && held.token === this.owner.token) {
      unlinkQuietly(this.path);
      try {
        fsyncDir(dirname(this.path));
      } catch {
        // the lock is gone from this process's view; durability of its removal is a nicety
      }
    }
  }
}

type Superseded = { kind: 'won' } | { kind: 'lost' } | { kind: 'busy'; claimer: LockOwner };

/**
 * Replaces the stale lock `stale` with `me`, if no other starter does
 * first. Whoever creates `vigil.lock.claim-<token of stale>` may replace
 * it; a claim left by a dead claimer is claimed in turn, so the claims form
 * one chain and only its live end can win. The winner checks the lock is
 * still `stale` just before replacing it: a claimer that came late finds it
 * changed and backs off.
 */
function supersede(dir: string, path: string, stale: LockOwner, me: LockOwner): Superseded {
  let target = stale;
  for (let depth = 0; depth < 64; depth++) {
    const claim = join(dir, `${CLAIM_PREFIX}${target.token}`);
    if (publish(dir, claim, me)) {
      const now = readOwner(path);
      if (typeof now === 'object' && now.token === stale.token) {
        replace(dir, path, me);
        removeLeftovers(dir, me);
        return { kind: 'won' };
      }
      unlinkQuietly(claim);
      return { kind: 'lost' };
    }
    const claimer = readOwner(claim);
    if (claimer === 'missing') return { kind: 'lost' };
    if (claimer === 'unreadable') throw unreadableLock(dir, claim);
    // A claimer elsewhere cannot be checked: treat it as alive.
    if (claimer.hostname !== me.hostname || isAlive(claimer)) return { kind: 'busy', claimer };
    target = claimer;
  }
  throw new VigilError(ErrorCodes.STATE_LOCKED, `too many abandoned claims on the lock in ${dir}: make sure no controller uses this directory, then delete ${path} and ${join(dir, `${CLAIM_PREFIX}*`)}`, {
    expected: true,
    details: { path },
  });
}

/** Is the process that wrote `o` (on this host) still running? */
export function isAlive(o: LockOwner): boolean {
  const boot = bootId();
  if (o.bootId && boot && o.bootId !== boot) return false;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    // EPERM: it exists, under another user.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(o.pid);
  if (stat) {
    // A zombie has exited; only its parent has not collected it yet.
    if (stat.state === 'Z' || stat.state === 'X') return false;
    if (o.procStart && stat.start !== o.procStart) return false;
  }
  return true;
}

function ownerOfThisProcess(): LockOwner {
  const boot = bootId();
  const start = procStat(process.pid)?.start;
  return {
    vigil: 'lock',
    token: randomBytes(8).toString('hex'),
    pid: process.pid,
    hostname: osHostname(),
    started: new Date().toISOString(),
    ...(boot ? { bootId: boot } : {}),
    ...(start ? { procStart: start } : {}),
  };
}

let cachedBootId: string | null | undefined;
function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/** Linux /proc/<pid>/stat: the process state letter and its start time (field 22). */
function procStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields from the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const start = rest[19];
  return state && start ? { state, start } : undefined;
}

function readOwner(path: string): LockOwner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (o.vigil === 'lock' && typeof o.token === 'string' && Number.isInteger(o.pid) && (o.pid as number) > 0 && typeof o.hostname === 'string' && typeof o.started === 'string') return o as LockOwner;
  } catch {
    // falls through
  }
  return 'unreadable';
}

/** Creates `path` holding `o`, whole, unless it exists. */
function publish(dir: string, path: string, o: LockOwner): boolean {
  const tmp = writeAside(dir, o);
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkQuietly(tmp);
  }
  fsyncDir(dir);
  return true;
}

function replace(dir: string, path: string, o: LockOwner): void {
  const tmp = writeAside(dir, o);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkQuietly(tmp);
    throw e;
  }
  fsyncDir(dir);
}

function writeAside(dir: string, o: LockOwner): string {
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeFully(fd, Buffer.from(`${JSON.stringify(o)}\n`), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * After a takeover: claims on locks that no longer exist, and the
 * temporary files of dead starters. A live starter still holding a claim
 * finds the lock changed and backs off, so removing its claim is harmless.
 */
function removeLeftovers(dir: string, me: LockOwner): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(CLAIM_PREFIX)) unlinkQuietly(join(dir, name));
    const tmp = TMP.exec(name);
    if (tmp && Number(tmp[1]) !== me.pid && !pidExists(Number(tmp[1]))) unlinkQuietly(join(dir, name));
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function lockedBy(dir: string, path: string, o: LockOwner, doing = 'holds it'): VigilError {
  return new VigilError(
    ErrorCodes.STATE_LOCKED,
    `the state directory ${dir} is in use: Vigil pid ${o.pid} on ${o.hostname}, started ${o.started}, ${doing} (lock file ${path}). Stop that controller first, or give this one another controller.stateDir.`,
    { expected: true, details: { path, pid: o.pid, hostname: o.hostname, started: o.started } },
  );
}

function otherHost(dir: string, path: string, o: LockOwner, here: string): VigilError {
  return new VigilError(
    ErrorCodes.STATE_LOCKED,
    `the state directory ${dir} is locked by Vigil pid ${o.pid} on host ${o.hostname}, started ${o.started} (lock file ${path}); this is ${here}, which cannot tell whether that controller still runs. Make sure no Vigil runs on ${o.hostname} with this state directory, then delete ${path}.`,
    { expected: true, details: { path, pid: o.pid, hostname: o.hostname, started: o.started } },
  );
}

function unreadableLock(dir: string, path: string): VigilError {
  return new VigilError(
    ErrorCodes.STATE_LOCKED,
    `${path} exists but is not a Vigil lock file, so Vigil cannot tell who holds ${dir}. Make sure no Vigil controller uses this directory, then delete ${path}.`,
    { expected: true, details: { path } },
  );
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

