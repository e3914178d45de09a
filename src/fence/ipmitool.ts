/**
 * Running ipmitool for one command, and reading what it said.
 *
 * The password reaches ipmitool only through the IPMI_PASSWORD variable of
 * the child's own environment (`-E`), never through argv, which every user
 * on the machine can read in ps. Each run ends within its timeout (the
 * process is killed). A failed run is translated from ipmitool's words (it
 * runs with -v, so that a refused login and a silent BMC can be told apart)
 * into VIGIL_E_FENCE_AUTH, _UNREACHABLE or _FAILED.
 */
import { spawn } from 'node:child_process';
import { ErrorCodes } from '../errors.js';
import { fenceError, scrub } from './errors.js';

export interface IpmitoolRun {
  /** Path or name of the executable. */
  readonly ipmitool: string;
  readonly args: readonly string[];
  readonly password: string;
  readonly timeoutMs: number;
  /** For messages: what was run against which BMC, e.g. "chassis power off on 10.0.0.7". */
  readonly what: string;
  readonly username: string;
  readonly signal?: AbortSignal;
}

export interface IpmitoolResult {
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 64 * 1024;

/** Runs ipmitool; resolves with its output when it exits 0, rejects with a fence error otherwise. */
export function runIpmitool(run: IpmitoolRun): Promise<IpmitoolResult> {
  return new Promise<IpmitoolResult>((resolve, reject) => {
    if (run.signal?.aborted) {
      reject(abortReason(run.signal));
      return;
    }
    const child = spawn(run.ipmitool, [...run.args], {
      // A small, fixed environment: stable (C locale) output, and no other secrets of ours passed along.
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', LANG: 'C', IPMI_PASSWORD: run.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ended: 'timeout' | 'aborted' | undefined;
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
    });
    const stop = (why: 'timeout' | 'aborted'): void => {
      if (ended) return;
      ended = why;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1_000).unref();
    };
    const timer = setTimeout(() => stop('timeout'), run.timeoutMs);
    const onAbort = (): void => stop('aborted');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        reject(
          fenceError(ErrorCodes.FENCE_FAILED, `cannot run ipmitool as "${run.ipmitool}" (${err.code}): install the ipmitool package, or set ipmitool to its path`, {
            expected: true,
            details: { ipmitool: run.ipmitool },
          }),
        );
      } else {
        reject(fenceError(ErrorCodes.FENCE_FAILED, `cannot run ipmitool as "${run.ipmitool}" (${err.code ?? err.message})`, { details: { ipmitool: run.ipmitool } }));
      }
    });
    child.on('close', (code, sig) => {
      cleanup();
      if (ended === 'aborted' && run.signal) return reject(abortReason(run.signal));
      if (ended === 'timeout') {
        return reject(
          fenceError(ErrorCodes.FENCE_UNREACHABLE, `ipmitool ${run.what}: no answer within ${run.timeoutMs}ms`, { details: { cause: 'timeout', command: run.what } }),
        );
      }
      if (code === 0) return resolve({ stdout, stderr });
      reject(classifyFailure(`${stderr}\n${stdout}`, run, code, sig));
    });
  });
}

/** What ipmitool prints (with -v) for each kind of failure, checked in this order. */
const AUTH = [/RAKP 2 HMAC is invalid/i, /unauthorized name/i, /invalid user name/i, /Activate Session command failed/i, /insufficient privilege/i, /invalid session/i, /password is invalid/i];
const CIPHER = [/invalid authentication algorithm/i, /invalid integrity algorithm/i, /invalid confidentiality algorithm/i, /no matching cipher suite/i, /unsupported cipher suite/i];
const UNREACHABLE = [
  /Get Auth Capabilities error/i,
  /Error issuing Get Channel Authentication Capabilities/i,
  /No response from remote controller/i,
  /Address lookup for .* failed/i,
  /Could not open socket/i,
  /Connection refused/i,
  /Network is unreachable/i,
  /No route to host/i,
];

export function classifyFailure(output: string, run: Pick<IpmitoolRun, 'what' | 'password' | 'username'>, code: number | null, sig: NodeJS.Signals | null): Error {
  const said = lastLines(scrub(output, [run.password], 2_000));
  const exit = sig ? `killed by ${sig}` : `exit ${code}`;
  if (AUTH.some((re) => re.test(output))) {
    return fenceError(
      ErrorCodes.FENCE_AUTH,
      `ipmitool ${run.what}: the BMC refused the credentials of user "${run.username}" (${said}); check username and password, and that the user may control chassis power`,
      { details: { command: run.what } },
    );
  }
  if (CIPHER.some((re) => re.test(output))) {
    return fenceError(ErrorCodes.FENCE_FAILED, `ipmitool ${run.what}: the BMC does not accept this cipher suite (${said}); set cipherSuite to one it offers (often 3 or 17)`, {
      expected: true,
      details: { command: run.what },
    });
  }
  if (UNREACHABLE.some((re) => re.test(output))) {
    return fenceError(ErrorCodes.FENCE_UNREACHABLE, `ipmitool ${run.what}: cannot reach the BMC (${said})`, { details: { command: run.what } });
  }
  return fenceError(ErrorCodes.FENCE_FAILED, `ipmitool ${run.what} failed (${exit}): ${said || 'no output'}`, { details: { command: run.what } });
}

/** The meaningful lines of ipmitool's chatter, joined: enough to act on, not its whole -v trace. */
function lastLines(text: string): string {
  const noise = /^(Loading IANA PEN Registry|Running Get VSO Capabilities|Invalid completion code received: Invalid command|Discovered IPMB address)/;
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !noise.test(l));
  return lines.slice(-3).join('; ');
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'aborted');
}
