/**
 * One long-lived PowerShell process per cluster, driven through
 * node-powershell. What it promises:
 * - every call is one invocation of one collapsed script with one base64
 *   JSON argument, and its answer is exactly one JSON document or an error;
 * - a call that outlives `invocationTimeout` disposes the process (kill, not
 *   wait: node-powershell never stops a stuck command) and the next call
 *   starts a fresh one, which first runs `session-open` again;
 * - a process that exits mid-call (with any code, including 0, which
 *   node-powershell reports as an empty success) is a protocol fault;
 * - anything written to stderr is a protocol fault with its first line.
 * node-powershell keeps every invocation in `history`; it is emptied after
 * each call so a controller that runs for months does not grow.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { PowerShell, type InvocationResult } from 'node-powershell';
import type { Logger } from '../../src/log.js';
import { messageOf } from '../../src/errors.js';
import { parseEnvelope, type Envelope } from './envelope.js';
import { firstLineOf, HyperVProtocolError, translateFailure } from './errors.js';
import { scriptCommand, type ScriptName } from './scripts.js';

export interface SessionOptions {
  readonly executable: string;
  /** Put before PowerShell's own arguments (a wrapper such as the tests' stand-in). */
  readonly arguments: readonly string[];
  /** Extra environment for the PowerShell process (the password travels here, never in a command). */
  readonly env: Readonly<Record<string, string>>;
  readonly invocationTimeoutMs: number;
  /** Input of the session-open script. */
  readonly openInput: Record<string, unknown>;
  readonly logger: Logger;
}

export interface CallOptions {
  /** Changes something on the platform: after an unclear outcome (timeout, junk output) it must not be repeated blindly. */
  readonly mutating: boolean;
  /** Which unknown-name error an ObjectNotFound means. */
  readonly subject?: 'vm' | 'host' | 'none';
  /** For messages: what the call was for. */
  readonly what: string;
}

interface Shell {
  readonly ps: PowerShell;
  readonly generation: number;
  dead: boolean;
}

export class PowerShellSession {
  private shell?: Shell;
  private opening?: Promise<Shell>;
  private generations = 0;
  private closed = false;
  private tail: Promise<void> = Promise.resolve();
  /** Invocations sent to PowerShell, session-open included (round trips). */
  invocations = 0;
  /** Time the last answer took to read as JSON, in ms. */
  lastParseMs = 0;

  constructor(private readonly o: SessionOptions) {}

  /**
   * Runs one script and returns its result; throws a VigilError for everything else.
   * Calls run one at a time, so that a call's timeout measures that call, not the queue before it.
   */
  call(name: ScriptName, input: unknown, opts: CallOptions): Promise<unknown> {
    const run = this.tail.then(async () => {
      const shell = await this.ensure();
      const envelope = await this.invoke(shell, name, input, opts);
      if (envelope.ok) return envelope.result;
      throw translateFailure(envelope.error, opts.what, opts.subject ?? 'none');
    });
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The generation of the current process; a job started in an earlier one is gone with it. */
  get generation(): number {
    return this.shell && !this.shell.dead ? this.shell.generation : -1;
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.shell;
    this.shell = undefined;
    if (s) await this.kill(s, 'SIGTERM');
  }

  private ensure(): Promise<Shell> {
    if (this.closed) return Promise.reject(new HyperVProtocolError('exited', '', 'the PowerShell session is closed', false));
    if (this.shell && !this.shell.dead) return Promise.resolve(this.shell);
    if (!this.opening) {
      this.opening = this.start().finally(() => {
        this.opening = undefined;
      });
    }
    return this.opening;
  }

  private async start(): Promise<Shell> {
    const generation = ++this.generations;
    const executableOptions: Record<string, boolean> = {};
    if (this.o.arguments.length) executableOptions['-NoLogo'] = false;
    for (const a of this.o.arguments) executableOptions[a] = true;
    executableOptions['-NoProfile'] = true;
    executableOptions['-NonInteractive'] = true;
    let ps: PowerShell;
    try {
      ps = new PowerShell({
        executable: this.o.executable,
        executableOptions,
        spawnOptions: { env: { ...process.env, ...this.o.env } },
        throwOnInvocationError: false,
        invocationTimeout: 0,
      });
    } catch (e) {
      throw new HyperVProtocolError('spawn', firstLineOf(messageOf(e)), `cannot start PowerShell (${this.o.executable}): ${firstLineOf(messageOf(e))}`, true, e);
    }
    const shell: Shell = { ps, generation, dead: false };
    // node-powershell rejects this promise when the process dies; nobody else may be listening.
    internals(ps).exitPromise?.catch(() => undefined);
    internals(ps).process?.once('exit', () => {
      shell.dead = true;
    });
    this.o.logger.debug({ generation, executable: this.o.executable }, 'PowerShell session started');
    try {
      const opened = await this.invoke(shell, 'session-open', this.o.openInput, { mutating: false, what: 'opening the PowerShell session' });
      if (!opened.ok) throw translateFailure(opened.error, 'opening the PowerShell session');
    } catch (e) {
      await this.kill(shell, 'SIGKILL');
      throw e;
    }
    this.shell = shell;
    return shell;
  }

  private async invoke(shell: Shell, name: ScriptName, input: unknown, opts: CallOptions): Promise<Envelope> {
    const command = scriptCommand(name, input);
    const retryable = !opts.mutating;
    this.invocations += 1;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.o.invocationTimeoutMs);
    });
    const running = shell.ps.invoke(command);
    // Settles later when the process is killed; its outcome no longer matters then.
    running.catch(() => undefined);
    let result: InvocationResult | 'timeout';
    try {
      result = await Promise.race([running, timedOut]);
    } catch (e) {
      await this.drop(shell);
      const detail = firstLineOf(messageOf(e).replace(/^Shell process \d* ?exited\.\s*/, '')) || 'no message';
      const code = (e as { exitCode?: number | null }).exitCode;
      throw new HyperVProtocolError('exited', detail, `${opts.what}: the PowerShell process exited${code !== undefined && code !== null ? ` with code ${code}` : ''} during the call (${detail})`, retryable, e);
    } finally {
      clearTimeout(timer);
      shell.ps.history.length = 0;
    }
    if (result === 'timeout') {
      this.o.logger.warn({ script: name, timeoutMs: this.o.invocationTimeoutMs }, 'PowerShell call timed out; disposing the session');
      await this.drop(shell);
      throw new HyperVProtocolError('timeout', '', `${opts.what}: no answer from PowerShell within ${this.o.invocationTimeoutMs} ms; the session was disposed and will be replaced`, retryable);
    }
    const stderr = result.stderr?.toString('utf8') ?? '';
    if (stderr.trim()) {
      throw new HyperVProtocolError('stderr', firstLineOf(stderr), `${opts.what}: PowerShell reported an error: ${firstLineOf(stderr)}`, retryable);
    }
    if (result.stdout === undefined) {
      // node-powershell resolves with an empty result when the process exits with code 0 mid-call.
      await this.drop(shell);
      throw new HyperVProtocolError('exited', '', `${opts.what}: the PowerShell process ended during the call without an answer`, retryable);
    }
    const t0 = performance.now();
    try {
      return parseEnvelope(result.stdout.toString('utf8'), opts.what, retryable);
    } finally {
      this.lastParseMs = performance.now() - t0;
    }
  }

  private async drop(shell: Shell): Promise<void> {
    if (this.shell === shell) this.shell = undefined;
    await this.kill(shell, 'SIGKILL');
  }

  private async kill(shell: Shell, signal: NodeJS.Signals): Promise<void> {
    shell.dead = true;
    try {
      await shell.ps.dispose(signal);
    } catch {
      // A process that already died, or died of the signal: either way it is gone.
    }
  }
}

/** node-powershell keeps the child process and its exit promise private; the session needs both to notice a death. */
function internals(ps: PowerShell): { process?: ChildProcess; exitPromise?: Promise<void> } {
  return ps as unknown as { process?: ChildProcess; exitPromise?: Promise<void> };
}
