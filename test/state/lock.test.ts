import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { JOURNAL_FILE } from '../../src/state/file-journal.js';
import { LOCK_FILE, StateLock, type LockOwner } from '../../src/state/lock.js';
import { openState } from '../../src/state/open-state.js';
import { tempDir } from '../helpers/tmp.js';
import { startChild, type Child } from './state-child.js';

let n = 0;
const freshDir = (): string => {
  const dir = join(tempDir(), `state-${++n}`);
  mkdirSync(dir);
  return dir;
};

const children: Child[] = [];
const child = (dir: string): Child => {
  const c = startChild('lock-child.mjs', [dir]);
  children.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
});

function refusal(fn: () => unknown): VigilError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VigilError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return r.pid;
}

const owner = (over: Partial<LockOwner>): LockOwner => ({ vigil: 'lock', token: `t${Math.random().toString(16).slice(2)}`, pid: deadPid(), hostname: hostname(), started: '2025-01-01T00:00:00.000Z', ...over });
const writeOwner = (path: string, o: LockOwner): void => writeFileSync(path, `${JSON.stringify(o)}\n`);

describe('state directory lock', () => {
  it('is refused while a live process holds it, naming its pid, host, start time and the lock file', async () => {
    const dir = freshDir();
    const holder = child(dir);
    await holder.waitFor(/^ready/);
    holder.send('go');
    await holder.waitFor(/^won/);
    const e = refusal(() => StateLock.acquire(dir));
    expect(e.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(e.expected).toBe(true);
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
    expect(held.pid).toBe(holder.proc.pid);
    for (const part of [`pid ${holder.proc.pid}`, hostname(), held.started, join(dir, LOCK_FILE)]) expect(e.message).toContain(part);
    // And by another process too.
    const other = child(dir);
    await other.waitFor(/^ready/);
    other.send('go');
    expect(await other.waitFor(/^refused/)).toContain(`${ErrorCodes.STATE_LOCKED} the state directory ${dir} is in use: Vigil pid ${holder.proc.pid}`);
  });

  it('is taken over at once from a process that was SIGKILLed', async () => {
    const dir = freshDir();
    const holder = child(dir);
    await holder.waitFor(/^ready/);
    holder.send('go');
    await holder.waitFor(/^won/);
    await holder.kill();
    const lock = StateLock.acquire(dir);
    expect(lock.tookOver?.pid).toBe(holder.proc.pid);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, token: lock.owner.token });
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('of several processes racing for a stale lock, exactly one wins', async () => {
    const dir = freshDir();
    let stale = child(dir);
    await stale.waitFor(/^ready/);
    stale.send('go');
    await stale.waitFor(/^won/);
    for (let round = 0; round < 5; round++) {
      await stale.kill();
      const racers = [child(dir), child(dir), child(dir), child(dir)];
      await Promise.all(racers.map((r) => r.waitFor(/^ready/)));
      for (const r of racers) r.send('go');
      const results = await Promise.all(racers.map((r) => r.waitFor(/^(won|refused)/)));
      const winners = racers.filter((_, i) => results[i]?.startsWith('won'));
      expect(winners, results.join('\n')).toHaveLength(1);
      const winner = winners[0] as Child;
      expect(results.find((r) => r.startsWith('won'))).toContain(`tookover ${stale.proc.pid}`);
      for (const r of results.filter((x) => x.startsWith('refused'))) expect(r).toContain(`pid ${winner.proc.pid}`);
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(winner.proc.pid);
      expect(readdirSync(dir)).toEqual([LOCK_FILE]);
      for (const r of racers) if (r !== winner) await r.kill();
      stale = winner;
    }
  });

  it('of several processes racing for a free directory, exactly one wins', async () => {
    const dir = freshDir();
    const racers = [child(dir), child(dir), child(dir), child(dir)];
    await Promise.all(racers.map((r) => r.waitFor(/^ready/)));
    for (const r of racers) r.send('go');
    const results = await Promise.all(racers.map((r) => r.waitFor(/^(won|refused)/)));
    expect(results.filter((r) => r.startsWith('won')), results.join('\n')).toHaveLength(1);
  });

  it('is refused when another host holds it, saying how to clear it, and the lock file is left alone', () => {
    const dir = freshDir();
    const path = join(dir, LOCK_FILE);
    writeOwner(path, owner({ hostname: 'ctl-b.example.net', pid: process.pid }));
    const before = readFileSync(path);
    const e = refusal(() => StateLock.acquire(dir));
    expect(e.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(e.message).toContain('on host ctl-b.example.net');
    expect(e.message).toContain('cannot tell whether that controller still runs');
    expect(e.message).toContain(`Make sure no Vigil runs on ctl-b.example.net with this state directory, then delete ${path}`);
    expect(readFileSync(path)).toEqual(before);
  });

  it('is refused when the lock file is not a Vigil lock', () => {
    const dir = freshDir();
    writeFileSync(join(dir, LOCK_FILE), '');
    expect(refusal(() => StateLock.acquire(dir)).message).toContain('is not a Vigil lock file');
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('');
  });

  it('is released on release(), and a process that ends normally releases its own', async () => {
    const dir = freshDir();
    const lock = StateLock.acquire(dir);
    expect(refusal(() => StateLock.acquire(dir)).message).toContain(`pid ${process.pid}`);
    lock.release();
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    StateLock.acquire(dir).release();

    const c = child(dir);
    await c.waitFor(/^ready/);
    c.send('go');
    await c.waitFor(/^won/);
    c.send('release');
    await c.waitFor(/^released/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    c.send('go');
    await c.waitFor(/^won/);
    c.proc.stdin?.end();
    expect(await c.exited).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('does not remove a lock that has since passed to another process', () => {
    const dir = freshDir();
    const lock = StateLock.acquire(dir);
    const other = owner({ pid: process.pid });
    writeOwner(join(dir, LOCK_FILE), other);
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe(other.token);
  });

  it('sees through a reused pid and a reboot: the holder is gone though its pid answers', () => {
    for (const over of [{ pid: process.pid, procStart: '1' }, { pid: process.pid, bootId: '00000000-0000-0000-0000-000000000000' }]) {
      const dir = freshDir();
      writeOwner(join(dir, LOCK_FILE), owner(over));
      const lock = StateLock.acquire(dir);
      expect(lock.tookOver?.pid).toBe(process.pid);
      lock.release();
    }
  });

  it('takes over past a claim abandoned by a starter that died while taking over', () => {
    const dir = freshDir();
    const stale = owner({});
    const deadClaimer = owner({});
    writeOwner(join(dir, LOCK_FILE), stale);
    writeOwner(join(dir, `${LOCK_FILE}.claim-${stale.token}`), deadClaimer);
    writeOwner(join(dir, `${LOCK_FILE}.claim-${deadClaimer.token}`), owner({}));
    const lock = StateLock.acquire(dir);
    expect(lock.tookOver?.token).toBe(stale.token);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it('waits for, then gives way to, a live starter in the middle of a takeover', () => {
    const dir = freshDir();
    const stale = owner({});
    writeOwner(join(dir, LOCK_FILE), stale);
    // This test process stands in for the other starter: it is alive.
    writeOwner(join(dir, `${LOCK_FILE}.claim-${stale.token}`), owner({ pid: process.pid, started: '2025-06-01T00:00:00.000Z' }));
    const e = refusal(() => StateLock.acquire(dir, { settleMs: 50 }));
    expect(e.code).toBe(ErrorCodes.STATE_LOCKED);
    expect(e.message).toContain(`pid ${process.pid}`);
    expect(e.message).toContain('is taking over the lock of a stopped controller');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).token).toBe(stale.token);
  });
});

describe('openState', () => {
  it('takes the lock and opens the journal; close releases both', () => {
    const dir = freshDir();
    const s = openState(dir);
    expect(s.report.created).toBe(true);
    expect(refusal(() => openState(dir)).code).toBe(ErrorCodes.STATE_LOCKED);
    s.journal.appendSync({ type: 'freeze', cluster: '*', reason: 'test', by: 'ops', at: 1 });
    s.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = openState(dir);
    expect([...again.journal.state().frozen.keys()]).toEqual(['*']);
    again.close();
  });

  it('lets the lock go when the journal refuses to open', () => {
    const dir = freshDir();
    writeFileSync(join(dir, JOURNAL_FILE), 'not a journal\n');
    for (let i = 0; i < 2; i++) expect(refusal(() => openState(dir)).code).toBe(ErrorCodes.JOURNAL_FOREIGN);
    expect(readdirSync(dir)).toEqual([JOURNAL_FILE]);
  });
});
