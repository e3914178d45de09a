/**
 * What comes back from PowerShell, and what happens when it is wrong: the
 * envelope rules on their own, then every fault the stand-in can play,
 * through node-powershell, with the session replaced where it must be.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isVigilError, ErrorCodes } from '../../../src/errors.js';
import { parseEnvelope } from '../../../providers/hyperv/envelope.js';
import { HyperVProtocolError } from '../../../providers/hyperv/errors.js';
import { scriptCommand } from '../../../providers/hyperv/scripts.js';
import { DEFAULT_STDERR } from '../../pwsh-standin/server.js';
import { SMALL_CLUSTER, startEstate, until, type Estate } from './standin.js';

function fault(e: unknown): HyperVProtocolError {
  expect(e, `expected a HyperVProtocolError, got ${String(e)}`).toBeInstanceOf(HyperVProtocolError);
  return e as HyperVProtocolError;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

describe('parseEnvelope', () => {
  it('accepts exactly one {"ok":...} document', () => {
    expect(parseEnvelope('{"ok":true,"result":{"a":1}}\n', 'x', true)).toEqual({ ok: true, result: { a: 1 } });
    expect(parseEnvelope('{"ok":false,"error":{"type":"T","message":"m","category":"ObjectNotFound","id":"I"}}', 'x', true)).toEqual({ ok: false, error: { type: 'T', message: 'm', category: 'ObjectNotFound', id: 'I' } });
  });

  it.each([
    ['a warning banner before the JSON', 'WARNING: something you should know\n{"ok":true,"result":1}', 'WARNING: something you should know'],
    ['a partial line', '{"ok":true,"result":{"hos', '{"ok":true,"result":{"hos'],
    ['a localized error', 'Le service de cluster n\u2019est pas d\u00e9marr\u00e9.', 'Le service de cluster n\u2019est pas d\u00e9marr\u00e9.'],
    ['nothing', '   \n', ''],
    ['two documents', '{"ok":true,"result":1}\n{"ok":true,"result":2}', '{"ok":true,"result":1}'],
    ['JSON of another shape', '[1,2,3]', '[1,2,3]'],
    ['a document without ok', '{"result":1}', '{"result":1}'],
    ['ok with extra keys', '{"ok":true,"result":1,"more":2}', '{"ok":true,"result":1,"more":2}'],
  ])('refuses %s as a typed error with its first line', (_what, text, firstLine) => {
    let err: unknown;
    try {
      parseEnvelope(text, 'snapshot', true);
    } catch (e) {
      err = e;
    }
    const f = fault(err);
    expect(f.fault).toBe('unexpected-output');
    expect(f.firstLine).toBe(firstLine);
    expect(f.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
  });
});

describe('hyperv session faults (stand-in pwsh)', () => {
  let estate: Estate;
  afterEach(async () => {
    await estate?.close();
  });

  it('takes a snapshot in one round trip once the session is open', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    expect(estate.server.calls.get('session-open')).toBe(1);
    for (let i = 0; i < 3; i++) {
      await p.snapshot();
      expect(p.stats.roundTrips).toBe(1);
    }
    expect(estate.server.calls.get('snapshot')).toBe(4);
    expect(estate.server.calls.get('session-open')).toBe(1);
  });

  it('a cmdlet error written to stderr is a typed error with its first line; the session goes on', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    estate.server.inject({ kind: 'stderr', script: 'snapshot' });
    const f = fault(await rejection(p.snapshot()));
    expect(f.fault).toBe('stderr');
    expect(f.firstLine).toBe(DEFAULT_STDERR.split('\n')[0]);
    expect(f.retryable).toBe(true);
    expect((await p.snapshot()).hosts).toHaveLength(3);
    expect(estate.server.calls.get('session-open')).toBe(1);
  });

  it.each([
    ['banner', 'WARNING: The names of some imported commands'],
    ['partial', '{"ok":true,"result":{"mode":"cluster"'],
    ['localized', 'Le service de cluster n\u2019est pas d\u00e9marr\u00e9 sur ce n\u0153ud.'],
    ['empty', ''],
  ] as const)('output that is not the one JSON answer (%s) is refused with its first line', async (kind, start) => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    estate.server.inject({ kind, script: 'snapshot' });
    const f = fault(await rejection(p.snapshot()));
    expect(f.fault).toBe('unexpected-output');
    expect(f.firstLine.startsWith(start)).toBe(true);
    expect(f.message).toContain('snapshot');
  });

  it('nothing acts on a mutating call whose answer is not clean: not retryable, no task', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    estate.server.inject({ kind: 'banner', script: 'migrate' });
    const f = fault(await rejection(p.migrate({ id: estate.sim.vmId('web-01'), name: 'web-01' }, { id: 'hv3', name: 'hv3' }, { live: true })));
    expect(f.retryable).toBe(false);
    expect(f.firstLine.startsWith('WARNING:')).toBe(true);
  });

  it('a process that exits with 0 mid-call is an error, not an empty success, and the session is replaced', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    estate.server.inject({ kind: 'exit0', script: 'snapshot' });
    const f = fault(await rejection(p.snapshot()));
    expect(f.fault).toBe('exited');
    expect((await p.snapshot()).vms.length).toBe(4);
    const pids = new Set(estate.sim.invocations.filter((i) => i.script === 'session-open').map((i) => i.pid));
    expect(pids.size).toBe(2);
  });

  it('a process that dies with an error code is an error that says so, and the session is replaced', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    estate.server.inject({ kind: 'exit', script: 'snapshot', text: 'pwsh: fatal error' });
    const f = fault(await rejection(p.snapshot()));
    expect(f.fault).toBe('exited');
    expect(f.message).toMatch(/code 1/);
    expect((await p.snapshot()).hosts.length).toBe(3);
    expect(estate.server.calls.get('session-open')).toBe(2);
  });

  it('a hung call times out, the stuck process is killed and a fresh session answers the next call', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider({ powershell: { invocationTimeout: '1s' } });
    await p.snapshot();
    const stuckPid = estate.sim.invocations[0]?.pid as number;
    estate.server.inject({ kind: 'hang', script: 'snapshot' });
    const f = fault(await rejection(p.snapshot()));
    expect(f.fault).toBe('timeout');
    expect(f.retryable).toBe(true);
    await until('the stuck process to be gone', () => (alive(stuckPid) ? undefined : true), 5_000);
    expect((await p.snapshot()).vms.length).toBe(4);
    expect(estate.server.calls.get('session-open')).toBe(2);
  });

  it('a job lost with a replaced session is followed by the platform\'s truth', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider();
    await p.snapshot();
    const ref = await p.migrate({ id: estate.sim.vmId('web-01'), name: 'web-01' }, { id: 'hv3', name: 'hv3' }, { live: true });
    estate.server.inject({ kind: 'exit0', script: 'snapshot' });
    await rejection(p.snapshot());
    const state = await until('the migration to end', async () => {
      const s = await p.task(ref);
      return s.state === 'running' ? undefined : s;
    });
    // The job died with its session; whether the move finished first is a race. What matters is that the
    // task's verdict is the platform's truth: success exactly when the VM is on the target.
    const owner = estate.sim.groupState('web-01').owner;
    if (owner === 'hv3') expect(state).toEqual({ state: 'success' });
    else expect(state).toEqual({ state: 'error', retryable: true, message: `lost track of the migration: its PowerShell session was replaced, and the VM is on ${owner}` });
  });

  it('a PowerShell that cannot be started is a retryable, coded error', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider({ powershell: { executable: '/nonexistent/pwsh', arguments: [] } });
    const err = await rejection(p.snapshot());
    expect(isVigilError(err) && err.code).toBe(ErrorCodes.PROVIDER_UNAVAILABLE);
    expect(isVigilError(err) && err.retryable).toBe(true);
  });

  it('keeps the password out of the command text: it travels in the environment of the PowerShell process only', async () => {
    estate = await startEstate(SMALL_CLUSTER);
    const p = await estate.provider({ username: 'CONTOSO\\svc-vigil', password: 'S3cret-pa55!' });
    await p.snapshot();
    const open = estate.sim.invocations.find((i) => i.script === 'session-open');
    expect(JSON.stringify(open?.input)).not.toContain('S3cret');
    expect(open?.input).toMatchObject({ username: 'CONTOSO\\svc-vigil', passwordEnv: 'VIGIL_HYPERV_PASSWORD' });
    expect(scriptCommand('session-open', open?.input)).not.toContain('S3cret');
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
