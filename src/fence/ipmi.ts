/**
 * IpmiAgent: fences a host through its BMC's IPMI-over-LAN interface with
 * ipmitool: reads `chassis power status`, sends `chassis power off` unless
 * it already reads off, then reads the status on the clock until it says
 * off. Only that reading is the proof. Output is parsed strictly: a line
 * that is not exactly what ipmitool prints is a VIGIL_E_FENCE_FAILED error,
 * never taken for "off".
 */
import type { Clock } from '../clock/clock.js';
import { formatDuration } from '../clock/duration.js';
import { ErrorCodes, isVigilError } from '../errors.js';
import type { Logger } from '../log.js';
import { fenceError, scrub } from './errors.js';
import { runIpmitool } from './ipmitool.js';
import { expandTemplate } from './template.js';
import type { FenceAgent, FenceContext, FenceProof, FenceTarget, PowerState } from './types.js';

export type IpmiPrivilege = 'USER' | 'OPERATOR' | 'ADMINISTRATOR';

export interface IpmiAgentOptions {
  /** The BMC's host name or IP address, a template with {host} and {address}: `{host}-ipmi.example.com`. */
  readonly address: string;
  /** UDP port, when not 623. */
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  /** The ipmitool executable (default: `ipmitool` on PATH). */
  readonly ipmitool?: string;
  readonly interface?: 'lanplus' | 'lan';
  /** RMCP+ cipher suite (`-C`); ipmitool picks one when unset. */
  readonly cipherSuite?: number;
  /** Privilege level to ask for (`-L`); power control needs OPERATOR or more. */
  readonly privilege?: IpmiPrivilege;
  /** ipmitool's own per-attempt timeout in seconds (`-N`) and retries (`-R`). */
  readonly lanTimeoutSeconds?: number;
  readonly lanRetries?: number;
  /** Each ipmitool run's limit. */
  readonly commandTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** From the power-off to reading off. */
  readonly powerOffTimeoutMs?: number;
}

interface Bmc {
  readonly host: string;
  readonly label: string;
}

const STATUS_LINE = /^Chassis Power is (on|off)$/;
const OFF_LINE = 'Chassis Power Control: Down/Off';

export class IpmiAgent implements FenceAgent {
  readonly kind = 'ipmi';
  readonly #password: string;
  private readonly options: Omit<IpmiAgentOptions, 'password'>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly commandTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly powerOffTimeoutMs: number;

  constructor(options: IpmiAgentOptions, ctx: FenceContext) {
    const { password, ...rest } = options;
    this.#password = password;
    this.options = rest;
    this.clock = ctx.clock;
    this.logger = ctx.logger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 20_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.powerOffTimeoutMs = options.powerOffTimeoutMs ?? 60_000;
  }

  async fence(target: FenceTarget, signal?: AbortSignal): Promise<FenceProof> {
    const bmc = this.bmc(target);
    this.logger.info({ host: target.host, agent: this.kind, bmc: bmc.label }, 'fencing: powering the host off through IPMI');
    const before = await this.status(bmc, signal);
    if (before === 'off') {
      return this.proved(target, { agent: this.kind, evidence: `ipmitool chassis power status read "off" from ${bmc.label} (already off; no power-off sent)`, at: this.clock.now() });
    }
    const off = await runIpmitool(this.run(bmc, ['chassis', 'power', 'off'], signal));
    const lines = outputLines(off.stdout);
    if (lines.length !== 1 || lines[0] !== OFF_LINE) throw this.unexpected(bmc, 'chassis power off', off.stdout);
    const deadline = this.clock.now() + this.powerOffTimeoutMs;
    let last: string = before;
    let lastError: string | undefined;
    for (;;) {
      try {
        last = await this.status(bmc, signal);
        lastError = undefined;
        if (last === 'off') {
          return this.proved(target, { agent: this.kind, evidence: `ipmitool chassis power status read "off" from ${bmc.label} after chassis power off`, at: this.clock.now() });
        }
      } catch (e) {
        // The BMC may drop a session while it cuts power; keep asking until the deadline. Refusals and garbage end it now.
        if (!isVigilError(e) || e.code !== ErrorCodes.FENCE_UNREACHABLE) throw e;
        lastError = e.message;
      }
      const left = deadline - this.clock.now();
      if (left <= 0) {
        throw fenceError(
          ErrorCodes.FENCE_TIMEOUT,
          `host ${target.host}: ${bmc.label} still read "${last}" ${formatDuration(this.powerOffTimeoutMs)} after chassis power off${lastError ? ` (last error: ${lastError})` : ''}; the host is not proven off`,
          { details: { host: target.host, bmc: bmc.label, lastState: last } },
        );
      }
      await this.clock.sleep(Math.min(this.pollIntervalMs, left), signal);
    }
  }

  async powerState(target: FenceTarget, signal?: AbortSignal): Promise<PowerState> {
    return this.status(this.bmc(target), signal);
  }

  private proved(target: FenceTarget, proof: FenceProof): FenceProof {
    this.logger.info({ host: target.host, agent: this.kind, evidence: proof.evidence }, 'fencing: host proven off');
    return proof;
  }

  /** The BMC's address for ipmitool -H, and how messages name it. */
  private bmc(target: FenceTarget): Bmc {
    const host = expandTemplate(this.options.address, target);
    const port = this.options.port;
    const label = port === undefined ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return { host, label };
  }

  private async status(bmc: Bmc, signal?: AbortSignal): Promise<'on' | 'off'> {
    const res = await runIpmitool(this.run(bmc, ['chassis', 'power', 'status'], signal));
    const lines = outputLines(res.stdout);
    const m = lines.length === 1 ? STATUS_LINE.exec(lines[0] as string) : null;
    if (!m) throw this.unexpected(bmc, 'chassis power status', res.stdout);
    return m[1] as 'on' | 'off';
  }

  private run(bmc: Bmc, command: string[], signal?: AbortSignal): Parameters<typeof runIpmitool>[0] {
    const o = this.options;
    const args = ['-I', o.interface ?? 'lanplus', '-H', bmc.host, ...(o.port !== undefined ? ['-p', String(o.port)] : []), '-U', o.username, '-E'];
    if (o.cipherSuite !== undefined) args.push('-C', String(o.cipherSuite));
    if (o.privilege !== undefined) args.push('-L', o.privilege);
    if (o.lanTimeoutSeconds !== undefined) args.push('-N', String(o.lanTimeoutSeconds));
    if (o.lanRetries !== undefined) args.push('-R', String(o.lanRetries));
    args.push('-v', ...command);
    return {
      ipmitool: o.ipmitool ?? 'ipmitool',
      args,
      password: this.#password,
      timeoutMs: this.commandTimeoutMs,
      what: `${command.join(' ')} on ${bmc.label}`,
      username: o.username,
      ...(signal ? { signal } : {}),
    };
  }

  private unexpected(bmc: Bmc, command: string, stdout: string): Error {
    const shown = scrub(stdout.trim(), [this.#password], 300) || '(nothing)';
    return fenceError(ErrorCodes.FENCE_FAILED, `unexpected output from ipmitool ${command} on ${bmc.label}: ${JSON.stringify(shown)}`, { details: { bmc: bmc.label, command } });
  }
}

function outputLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
