/**
 * The controller's side of fencing: for a failed host whose VMs wait for
 * proof, run the host's agents in order (the platform's own proof first,
 * then BMCs) until one proves the host is off; record the proof in the
 * journal; on failure, alert and try again later with backoff. One fencing
 * run per host at a time. Never runs on a frozen cluster (the caller
 * checks): fencing many hosts on a controller's own network fault would be
 * worse than the fault.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import type { DecisionLog } from '../decisions.js';
import { messageOf } from '../errors.js';
import type { Provider } from '../provider.js';
import type { Journal } from '../state/journal.js';
import type { FenceAgent, FenceProof, FenceTarget } from './types.js';

export interface FencerOptions {
  readonly cluster: string;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly decisions: DecisionLog;
  readonly provider: Provider;
  /** The configured agents for a host (BMCs), in the order to try them. */
  readonly agentsFor: (host: string) => readonly FenceAgent[];
  /** Called once a host is proven off. */
  readonly onFenced: (host: string, proof: FenceProof) => void;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Asked before each fence: a replica that lost the leadership must not power hosts off. */
  readonly mayAct?: () => boolean;
}

export interface FenceStatus {
  readonly host: string;
  readonly state: 'fencing' | 'failed';
  readonly detail: string;
  readonly attempts: number;
}

export class Fencer {
  private readonly running = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, { attempts: number; nextAt: number; last: string }>();
  private readonly retries = new Map<string, TimerHandle>();
  private dead = false;

  constructor(private readonly o: FencerOptions) {}

  /** The platform can vouch for the host, or an agent is configured for it. */
  canFence(host: string): boolean {
    return !!this.o.provider.hostDownProof || this.o.agentsFor(host).length > 0;
  }

  /** Starts fencing the host unless a run is going or its retry is not due yet. */
  fence(target: FenceTarget): void {
    if (this.running.has(target.host) || (this.o.mayAct && !this.o.mayAct())) return;
    const failed = this.failures.get(target.host);
    if (failed && this.o.clock.now() < failed.nextAt) return;
    const run = this.run(target).finally(() => this.running.delete(target.host));
    this.running.set(target.host, run);
  }

  /** The host is back (or no longer needs fencing): forget its failures. */
  forget(host: string): void {
    this.failures.delete(host);
    const t = this.retries.get(host);
    if (t) this.o.clock.clearTimeout(t);
    this.retries.delete(host);
  }

  status(): FenceStatus[] {
    const out: FenceStatus[] = [...this.running.keys()].map((host) => ({ host, state: 'fencing' as const, detail: 'in progress', attempts: (this.failures.get(host)?.attempts ?? 0) + 1 }));
    for (const [host, f] of this.failures) if (!this.running.has(host)) out.push({ host, state: 'failed', detail: f.last, attempts: f.attempts });
    return out.sort((a, b) => (a.host < b.host ? -1 : 1));
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  stop(): void {
    for (const t of this.retries.values()) this.o.clock.clearTimeout(t);
    this.retries.clear();
  }

  /** For simulated crashes: runs in flight finish silently, without recording anything. */
  abandon(): void {
    this.stop();
    this.dead = true;
  }

  private async run(target: FenceTarget): Promise<void> {
    const { clock, decisions, cluster } = this.o;
    const at = () => clock.now();
    if (this.dead) return;
    decisions.record({ at: at(), cluster, kind: 'fencing', subject: target.host, message: `fencing ${target.host}: proving it is off before its VMs restart elsewhere` });
    const errors: string[] = [];
    const proof = (await this.platformProof(target, errors)) ?? (await this.agentProof(target, errors));
    if (this.dead) return;
    if (proof) {
      try {
        await this.o.journal.append({ type: 'fenced', cluster, host: target.host, agent: proof.agent, evidence: proof.evidence, at: proof.at });
      } catch (e) {
        // No restart may rest on a proof the journal does not hold: a successor (or this process after a crash) would not know of it.
        // With replicas this is usually a leadership lost mid-fence; the new leader fences again.
        if (this.dead) return;
        this.failed(target.host, `${target.host} is off (${proof.agent}: ${proof.evidence}) but the proof could not be recorded: ${messageOf(e)}`);
        return;
      }
      this.failures.delete(target.host);
      decisions.record({ at: at(), cluster, kind: 'fenced', subject: target.host, data: { host: target.host, agent: proof.agent }, message: `${target.host} is proven off (${proof.agent}): ${proof.evidence}` });
      this.o.onFenced(target.host, proof);
      return;
    }
    this.failed(target.host, errors.join('; ') || 'no fencing agent could prove it off');
  }

  /** A run that ends without a recorded proof: the VMs stay down, a person is told, and the next try waits for the backoff. */
  private failed(host: string, last: string): void {
    const { clock, decisions, cluster } = this.o;
    const attempts = (this.failures.get(host)?.attempts ?? 0) + 1;
    const delay = Math.min(this.o.retryMaxMs ?? 300_000, (this.o.retryBaseMs ?? 30_000) * 2 ** (attempts - 1));
    this.failures.set(host, { attempts, nextAt: clock.now() + delay, last });
    decisions.record({
      at: clock.now(),
      cluster,
      kind: 'alert',
      subject: host,
      data: { host, fencing: 'failed', attempts },
      message: `fencing ${host} failed (attempt ${attempts}): ${last}. Its VMs stay down until it is fenced; check its BMC, or confirm it is off with \`vigil fence confirm ${host}\`. Next try in ${formatDuration(delay)}.`,
    });
  }

  private async platformProof(target: FenceTarget, errors: string[]): Promise<FenceProof | undefined> {
    const provider = this.o.provider;
    if (!provider.hostDownProof) return undefined;
    try {
      const r = await provider.hostDownProof({ id: target.host, name: target.host });
      if (r.proven) return { agent: 'platform', evidence: r.evidence, at: this.o.clock.now() };
      errors.push(`the platform cannot vouch: ${r.evidence}`);
    } catch (e) {
      errors.push(`platform proof: ${messageOf(e)}`);
    }
    return undefined;
  }

  private async agentProof(target: FenceTarget, errors: string[]): Promise<FenceProof | undefined> {
    for (const agent of this.o.agentsFor(target.host)) {
      try {
        return await agent.fence(target);
      } catch (e) {
        errors.push(`${agent.kind}: ${messageOf(e)}`);
      }
    }
    return undefined;
  }
}
