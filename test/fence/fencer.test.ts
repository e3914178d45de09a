/** The controller's fencing orchestration, with agents as plain objects: what is under test is the order, the journal and the retries. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock/fake-clock.js';
import { DecisionLog } from '../../src/decisions.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import { Fencer } from '../../src/fence/fencer.js';
import type { FenceAgent } from '../../src/fence/types.js';
import { PROVIDER_CONTRACT_VERSION, type Provider } from '../../src/provider.js';
import { MemoryJournal } from '../../src/state/journal.js';

const provider = (proof?: { proven: boolean; evidence: string }): Provider => ({
  kind: 'test',
  contractVersion: PROVIDER_CONTRACT_VERSION,
  capabilities: { liveMigration: false, restartElsewhere: true, maintenanceMode: false, storageHealth: false, events: false, powerOff: false },
  snapshot: () => Promise.reject(new Error('unused')),
  migrate: () => Promise.reject(new Error('unused')),
  restart: () => Promise.reject(new Error('unused')),
  setMaintenance: () => Promise.reject(new Error('unused')),
  task: () => Promise.reject(new Error('unused')),
  close: async () => undefined,
  ...(proof ? { hostDownProof: async () => proof } : {}),
});

function setup(agents: FenceAgent[], proof?: { proven: boolean; evidence: string }) {
  const clock = new FakeClock(0);
  const journal = new MemoryJournal();
  const decisions = new DecisionLog();
  const fenced: string[] = [];
  const fencer = new Fencer({ cluster: 'c', clock, journal, decisions, provider: provider(proof), agentsFor: () => agents, onFenced: (h) => fenced.push(h), retryBaseMs: 30_000 });
  return { clock, journal, decisions, fenced, fencer };
}

const failing = (code: typeof ErrorCodes.FENCE_AUTH, message: string): FenceAgent => ({ kind: 'redfish', fence: () => Promise.reject(new VigilError(code, message)) });
const working = (clock: FakeClock): FenceAgent => ({ kind: 'ipmi', fence: async (t) => ({ agent: 'ipmi', evidence: `chassis power is off (${t.host})`, at: clock.now() }) });

describe('Fencer', () => {
  it('tries agents in order until one proves the host off, and journals the proof', async () => {
    const s = setup([]);
    const agents = [failing(ErrorCodes.FENCE_AUTH, 'HTTP 401 from https://bmc/redfish/v1'), working(s.clock)];
    const t = setup(agents);
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.fenced).toEqual(['h1']);
    expect(t.journal.state().fenced.get('c/h1')).toMatchObject({ agent: 'ipmi', evidence: 'chassis power is off (h1)' });
    expect(t.decisions.recent().map((d) => d.kind)).toEqual(['fencing', 'fenced']);
  });

  it('asks the platform first, and uses its proof when it can vouch', async () => {
    const t = setup([], { proven: true, evidence: 'node offline and fenced by the HA manager' });
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.journal.state().fenced.get('c/h1')?.agent).toBe('platform');
  });

  it('on failure: no proof, an alert that says what a person can do, and a retry only after the backoff', async () => {
    const t = setup([failing(ErrorCodes.FENCE_AUTH, 'HTTP 401')], { proven: false, evidence: 'no HA on this node' });
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.fenced).toEqual([]);
    expect(t.journal.state().fenced.size).toBe(0);
    const alert = t.decisions.recent().find((d) => d.kind === 'alert');
    expect(alert?.message).toBe(
      'fencing h1 failed (attempt 1): the platform cannot vouch: no HA on this node; redfish: HTTP 401. Its VMs stay down until it is fenced; check its BMC, or confirm it is off with `vigil fence confirm h1`. Next try in 30s.',
    );
    expect(t.fencer.status()).toEqual([{ host: 'h1', state: 'failed', detail: 'the platform cannot vouch: no HA on this node; redfish: HTTP 401', attempts: 1 }]);
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.decisions.recent().filter((d) => d.kind === 'fencing')).toHaveLength(1);
    await t.clock.advance(30_000);
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.decisions.recent().filter((d) => d.kind === 'alert').at(-1)?.message).toMatch(/attempt 2.*Next try in 1m\.$/);
  });

  it('does not act on a proof the journal refused (leadership lost mid-fence, disk error): alert and retry later', async () => {
    const t = setup([working(new FakeClock(0))]);
    t.journal.append = () => Promise.reject(new Error('not the leader of c any more'));
    t.fencer.fence({ host: 'h1' });
    await t.fencer.idle();
    expect(t.fenced).toEqual([]);
    expect(t.decisions.recent().at(-1)?.message).toBe(
      'fencing h1 failed (attempt 1): h1 is off (ipmi: chassis power is off (h1)) but the proof could not be recorded: not the leader of c any more. Its VMs stay down until it is fenced; check its BMC, or confirm it is off with `vigil fence confirm h1`. Next try in 30s.',
    );
    expect(t.fencer.status()[0]).toMatchObject({ host: 'h1', state: 'failed', attempts: 1 });
  });

  it('knows whether it can fence a host at all', () => {
    expect(setup([]).fencer.canFence('h1')).toBe(false);
    expect(setup([], { proven: false, evidence: '' }).fencer.canFence('h1')).toBe(true);
  });
});
