/**
 * RedfishAgent: fences a host through its BMC's Redfish service.
 *
 * fence(): finds the ComputerSystem (the configured path, or the only
 * member of the Systems collection), reads PowerState, and unless it is
 * already Off sends #ComputerSystem.Reset (ForceOff when the BMC offers it)
 * to the action's own target; follows a 202 task if the BMC answers with
 * one; then polls PowerState on the clock until it reads Off. Only that
 * reading is the proof. Every other ending is an error and no proof:
 * FENCE_AUTH (credentials refused), FENCE_UNREACHABLE (no answer),
 * FENCE_TIMEOUT (never read Off in time; the last state is in the error),
 * FENCE_FAILED (anything unexpected, naming the URL).
 */
import type { Clock } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import { ErrorCodes, isVigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { fenceError } from './errors.js';
import { createHttpTransport } from './http-transport.js';
import { redfishLogin, type RedfishAuthMode } from './redfish-auth.js';
import { RedfishClient } from './redfish-client.js';
import { chooseOffType, odataId, readActionInfoAllowable, readMembers, readPowerState, readResetAction, readTask, shapeError, type ResetAction } from './redfish-resources.js';
import { expandTemplate } from './template.js';
import type { TlsOptions } from './tls.js';
import type { FenceAgent, FenceContext, FenceProof, FenceTarget, HttpResponse, HttpTransport, PowerState } from './types.js';

export interface RedfishAgentOptions {
  /** The BMC's base URL, a template with {host} and {address}: `https://{host}-bmc.example.com`. */
  readonly url: string;
  /** The ComputerSystem's path under the base URL (`/redfish/v1/Systems/1`); by default the only member of Systems. */
  readonly systemPath?: string;
  readonly username: string;
  readonly password: string;
  readonly auth?: RedfishAuthMode;
  readonly tls?: TlsOptions;
  /** Each HTTP request's limit. */
  readonly requestTimeoutMs?: number;
  /** Between PowerState (and task) polls. */
  readonly pollIntervalMs?: number;
  /** From the reset to PowerState Off. */
  readonly powerOffTimeoutMs?: number;
}

interface System {
  readonly url: string;
  readonly body: Record<string, unknown>;
}

export class RedfishAgent implements FenceAgent {
  readonly kind = 'redfish';
  readonly #password: string;
  readonly #http: HttpTransport;
  private readonly options: Omit<RedfishAgentOptions, 'password'>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly powerOffTimeoutMs: number;

  constructor(options: RedfishAgentOptions, ctx: FenceContext, transport?: HttpTransport) {
    // The password lives in a private field only, out of anything that serialises or logs this object.
    const { password, ...rest } = options;
    this.#password = password;
    this.options = rest;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.powerOffTimeoutMs = options.powerOffTimeoutMs ?? 60_000;
    this.#http = transport ?? createHttpTransport({ tls: options.tls ?? {}, baseDir: ctx.baseDir, logger: ctx.logger });
  }

  async fence(target: FenceTarget, signal?: AbortSignal): Promise<FenceProof> {
    const base = this.baseUrl(target);
    this.logger.info({ host: target.host, agent: this.kind, bmc: base }, 'fencing: powering the host off through Redfish');
    const proof = await this.session(base, signal, async (client) => {
      const system = await this.findSystem(client, base);
      const state = readPowerState(system.body, system.url);
      if (state === 'Off') {
        return { agent: this.kind, evidence: `PowerState Off at ${system.url} (already off; no reset sent)`, at: this.clock.now() };
      }
      const reset = readResetAction(system.body, system.url);
      const resetType = await this.resetType(client, system.url, reset);
      const resetUrl = new URL(reset.target, system.url).toString();
      const res = await client.send('POST', resetUrl, { ResetType: resetType });
      const deadline = this.clock.now() + this.powerOffTimeoutMs;
      if (res.status === 202) await this.followTask(client, resetUrl, res, deadline, signal);
      else if (res.status !== 200 && res.status !== 204) throw client.statusError('POST', resetUrl, res);
      await this.pollUntilOff(client, system.url, target.host, resetType, state, deadline, signal);
      return { agent: this.kind, evidence: `PowerState Off at ${system.url} after ${resetType}`, at: this.clock.now() };
    });
    this.logger.info({ host: target.host, agent: this.kind, evidence: proof.evidence }, 'fencing: host proven off');
    return proof;
  }

  async powerState(target: FenceTarget, signal?: AbortSignal): Promise<PowerState> {
    const base = this.baseUrl(target);
    return this.session(base, signal, async (client) => {
      const system = await this.findSystem(client, base);
      return mapPowerState(readPowerState(system.body, system.url));
    });
  }

  /** Base URL without a trailing `/redfish/v1`, so both spellings of the config work. */
  private baseUrl(target: FenceTarget): string {
    return expandTemplate(this.options.url, target, true)
      .replace(/\/+$/, '')
      .replace(/\/redfish\/v1$/, '');
  }

  private async session<T>(base: string, signal: AbortSignal | undefined, fn: (client: RedfishClient) => Promise<T>): Promise<T> {
    const client = new RedfishClient(this.#http, this.requestTimeoutMs, this.options.username, [this.#password], signal);
    const logout = await redfishLogin(client, `${base}/redfish/v1`, { username: this.options.username, password: this.#password }, this.options.auth ?? 'basic', this.logger);
    try {
      return await fn(client);
    } finally {
      await logout();
    }
  }

  private async findSystem(client: RedfishClient, base: string): Promise<System> {
    if (this.options.systemPath) {
      const url = `${base}${this.options.systemPath.startsWith('/') ? '' : '/'}${this.options.systemPath}`;
      return { url, body: await client.get(url) };
    }
    const rootUrl = `${base}/redfish/v1`;
    const root = await client.get(rootUrl);
    const systemsId = odataId(root.Systems);
    if (!systemsId) throw shapeError(rootUrl, 'the service root has no Systems link');
    const systemsUrl = new URL(systemsId, rootUrl).toString();
    const members = readMembers(await client.get(systemsUrl), systemsUrl);
    if (members.length !== 1) {
      // Picking one of several could power off the wrong machine and "prove" a fence that never happened.
      throw fenceError(
        ErrorCodes.FENCE_FAILED,
        members.length === 0
          ? `${systemsUrl} lists no ComputerSystem to power off`
          : `${systemsUrl} lists ${members.length} systems (${members.join(', ')}): set systemPath to the one that is this host`,
        { expected: true, details: { url: systemsUrl } },
      );
    }
    const url = new URL(members[0] as string, systemsUrl).toString();
    return { url, body: await client.get(url) };
  }

  private async resetType(client: RedfishClient, systemUrl: string, reset: ResetAction): Promise<string> {
    let allowable = reset.allowable;
    let source = systemUrl;
    if (allowable === undefined && reset.actionInfo) {
      source = new URL(reset.actionInfo, systemUrl).toString();
      allowable = readActionInfoAllowable(await client.get(source), source);
    }
    const type = chooseOffType(allowable);
    if (!type) {
      throw fenceError(ErrorCodes.FENCE_FAILED, `${source}: the BMC offers no reset type that powers the system off (it allows ${allowable?.join(', ') || 'none'})`, {
        expected: true,
        details: { url: source },
      });
    }
    return type;
  }

  /** Follows a 202's task monitor (Location) or Task resource until the task ends; a failed task is no fence. */
  private async followTask(client: RedfishClient, resetUrl: string, accepted: HttpResponse, deadline: number, signal?: AbortSignal): Promise<void> {
    const ref = accepted.headers.location ?? odataId(accepted.body);
    if (!ref) return; // nothing to follow: the PowerState poll decides
    const monitor = new URL(ref, resetUrl).toString();
    this.checkTask(accepted.body, monitor);
    for (;;) {
      if (this.clock.now() >= deadline) {
        throw fenceError(ErrorCodes.FENCE_TIMEOUT, `the reset task at ${monitor} did not end within ${formatDuration(this.powerOffTimeoutMs)}`, { details: { url: monitor } });
      }
      await this.clock.sleep(Math.min(this.pollIntervalMs, Math.max(0, deadline - this.clock.now())), signal);
      const res = await client.send('GET', monitor);
      if (res.status === 404) return; // some BMCs drop the monitor once the task is done
      if (res.status === 202) {
        this.checkTask(res.body, monitor);
        continue;
      }
      if (res.status === 200 || res.status === 204) {
        const task = readTask(res.body);
        if (task?.outcome === 'running') continue;
        this.checkTask(res.body, monitor);
        return;
      }
      throw client.statusError('GET', monitor, res);
    }
  }

  private checkTask(body: unknown, url: string): void {
    const task = readTask(body);
    if (task?.outcome === 'failed') {
      throw fenceError(ErrorCodes.FENCE_FAILED, `the reset task at ${url} ended ${task.state}${task.message ? `: ${task.message}` : ''}`, { details: { url, taskState: task.state } });
    }
  }

  private async pollUntilOff(client: RedfishClient, url: string, host: string, resetType: string, before: string, deadline: number, signal?: AbortSignal): Promise<void> {
    let last = before;
    let lastError: string | undefined;
    for (;;) {
      try {
        last = readPowerState(await client.get(url), url);
        lastError = undefined;
        if (last === 'Off') return;
      } catch (e) {
        // A BMC may stop answering for a moment while it cuts power; keep reading until the deadline. Refusals and bad shapes end it now.
        if (!isVigilError(e) || !e.retryable || e.code === ErrorCodes.FENCE_AUTH) throw e;
        lastError = e.message;
      }
      const left = deadline - this.clock.now();
      if (left <= 0) {
        throw fenceError(
          ErrorCodes.FENCE_TIMEOUT,
          `host ${host}: PowerState at ${url} still read "${last}" ${formatDuration(this.powerOffTimeoutMs)} after ${resetType}${lastError ? ` (last error: ${lastError})` : ''}; the host is not proven off`,
          { details: { url, host, lastState: last } },
        );
      }
      await this.clock.sleep(Math.min(this.pollIntervalMs, left), signal);
    }
  }
}

/** On, and the transitional states (power is still applied), are "on"; only Off is "off". */
export function mapPowerState(state: string): PowerState {
  if (state === 'Off') return 'off';
  if (state === 'On' || state === 'PoweringOn' || state === 'PoweringOff' || state === 'Paused') return 'on';
  return 'unknown';
}
