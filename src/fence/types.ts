/**
 * Fencing: proving a failed host is off before its VMs restart elsewhere,
 * so that no VM ever runs twice. Every way of proving it is a FenceAgent:
 * a BMC (Redfish, IPMI), the platform's own proof, or an operator's word.
 *
 * An agent's `fence` returns only once the host is proven off, with the
 * evidence; anything else is an error (VIGIL_E_FENCE_*), and the VMs stay
 * down. Agents translate; when to fence is the controller's decision.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../log.js';

export interface FenceTarget {
  /** The host's name in the cluster. */
  readonly host: string;
  /** Its management address, when the provider reported one. */
  readonly address?: string;
}

export interface FenceProof {
  /** The agent that proved it ("redfish", "ipmi", "platform", "operator"). */
  readonly agent: string;
  /** What proves it, for the log and the status page ("PowerState Off at https://bmc-3/redfish/v1/Systems/1"). */
  readonly evidence: string;
  readonly at: number;
}

export type PowerState = 'on' | 'off' | 'unknown';

export interface FenceAgent {
  readonly kind: string;
  /** Powers the host off (if it is not already) and resolves once it is proven off. */
  fence(target: FenceTarget, signal?: AbortSignal): Promise<FenceProof>;
  /** The host's power state as the agent sees it, when it can read it. */
  powerState?(target: FenceTarget, signal?: AbortSignal): Promise<PowerState>;
}

/** What an agent factory gets. */
export interface FenceContext {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Directory the config file lives in (for caFile and similar paths). */
  readonly baseDir: string;
}

/**
 * A minimal HTTP port, so that an agent's protocol logic can run over real
 * sockets (the default) or in memory against the lab's server in
 * simulated-time tests.
 */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export type HttpTransport = (req: HttpRequest, signal?: AbortSignal) => Promise<HttpResponse>;
