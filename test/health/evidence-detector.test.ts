import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION, EvidenceDetector, type EvidenceDetectorOptions } from '../../src/health/evidence-detector.js';
import type { HostHint } from '../../src/health/types.js';
import type { HostState } from '../../src/model/inventory.js';
import { host, snapshot } from '../helpers/build.js';

const opts = (over: Partial<EvidenceDetectorOptions> = {}): EvidenceDetectorOptions => ({ ...DEFAULT_DETECTION, failAfterPolls: 2, minDownMs: 10_000, hintMinDownMs: 2_000, ...over });

function look(d: EvidenceDetector, now: number, manager: HostState, probe?: boolean, hints: HostHint[] = []) {
  return d.observe({ now, snapshot: snapshot([host('h', { state: manager })], []), ...(probe === undefined ? {} : { probes: new Map([['h', probe]]) }), hints });
}
const state = (d: EvidenceDetector) => d.current().get('h')?.state;

describe('EvidenceDetector', () => {
  it('fails a host only when manager and probe agree, on enough polls over enough time', () => {
    const d = new EvidenceDetector(opts());
    look(d, 0, 'connected', true);
    look(d, 10_000, 'notResponding', false);
    expect(state(d)).toBe('suspect');
    look(d, 15_000, 'notResponding', false);
    expect(state(d), 'two polls, but only 5s apart').toBe('suspect');
    const v = look(d, 20_000, 'notResponding', false);
    expect(state(d)).toBe('failed');
    expect(v.transitions.at(-1)?.reason).toBe('the manager reports it not responding and the probe gets no answer on 3 consecutive polls over 10s');
  });

  it('never fails a host the probe still reaches: the manager lost it, but it runs', () => {
    const d = new EvidenceDetector(opts());
    for (let t = 0; t <= 60_000; t += 10_000) look(d, t, 'notResponding', true);
    expect(state(d)).toBe('suspect');
    expect(d.current().get('h')?.reason).toMatch(/the manager lost it, but the controller's probe answers/);
  });

  it('calls a host the manager sees but the probe does not isolated, and takes no step towards failure', () => {
    const d = new EvidenceDetector(opts());
    for (let t = 0; t <= 60_000; t += 10_000) look(d, t, 'connected', false);
    expect(state(d)).toBe('isolated');
  });

  it('with an alarm hint, needs the same two signals but a shorter span', () => {
    const d = new EvidenceDetector(opts());
    look(d, 0, 'connected', true);
    const hint = { host: 'h', at: 1_000, source: 'test', message: 'HostConnectionLostEvent' };
    look(d, 1_000, 'notResponding', false, [hint]);
    look(d, 3_000, 'notResponding', false, [hint]);
    expect(state(d)).toBe('failed');
    const alone = new EvidenceDetector(opts());
    look(alone, 0, 'connected', true, [hint]);
    look(alone, 2_000, 'connected', true, [hint]);
    expect(state(alone), 'a hint alone never fails a host').toBe('healthy');
  });

  it('rests on the manager alone where no probe can run, and says so', () => {
    const d = new EvidenceDetector(opts());
    look(d, 0, 'notResponding');
    const v = look(d, 10_000, 'notResponding');
    expect(state(d)).toBe('failed');
    expect(v.transitions.at(-1)?.reason).toMatch(/\(no probe\)/);
  });

  it('lets a failed host recover only after it answered on several polls', () => {
    const d = new EvidenceDetector(opts({ recoverAfterPolls: 2, minDownMs: 0, failAfterPolls: 1 }));
    look(d, 0, 'notResponding', false);
    expect(state(d)).toBe('failed');
    look(d, 10_000, 'connected', true);
    expect(state(d)).toBe('recovering');
    look(d, 20_000, 'connected', true);
    expect(state(d)).toBe('healthy');
  });

  it('keeps a fenced host fenced while it is down', () => {
    const d = new EvidenceDetector(opts({ minDownMs: 0, failAfterPolls: 1 }));
    look(d, 0, 'notResponding', false);
    expect(d.markFenced('h', 1, 'PowerState Off')).toMatchObject({ from: 'failed', to: 'fenced' });
    look(d, 10_000, 'notResponding', false);
    expect(state(d)).toBe('fenced');
    expect(d.markFenced('h', 2, 'again')).toBeUndefined();
  });

  it('quarantines a flapping host from placement', () => {
    const d = new EvidenceDetector(opts({ failAfterPolls: 1, minDownMs: 0, recoverAfterPolls: 1, flapping: { transitions: 3, windowMs: 600_000, quarantineMs: 1_800_000 } }));
    let t = 0;
    for (let i = 0; i < 3; i++) {
      look(d, (t += 10_000), 'notResponding', false);
      look(d, (t += 10_000), 'connected', true);
    }
    expect(state(d)).toBe('quarantined');
    look(d, t + 1_900_000, 'connected', true);
    expect(state(d)).toBe('healthy');
  });

  it('does not count maintenance or a host a person disconnected as failing', () => {
    const d = new EvidenceDetector(opts({ failAfterPolls: 1, minDownMs: 0 }));
    look(d, 0, 'maintenance', false);
    expect(state(d)).toBe('maintenance');
    look(d, 10_000, 'disconnected', false);
    expect(state(d)).toBe('isolated');
  });
});
