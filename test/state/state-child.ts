/** Starts the child processes of the state tests (they run from dist/: npm test builds it first). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinPath } from '../../src/paths.js';

export interface Child {
  readonly proc: ChildProcess;
  /** Every line it printed so far. */
  readonly lines: string[];
  send(line: string): void;
  /** Waits (bounded) for a printed line that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGKILL, then waits until it has been reaped. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export function startChild(script: string, args: string[]): Child {
  const dist = builtinPath('dist', 'src', 'state', 'lock.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` (npm test does it for you)`);
  const proc = spawn(process.execPath, [join(builtinPath(), 'test', 'state', script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  proc.stdout?.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const w of waiters) w();
  });
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    proc,
    lines,
    exited,
    send: (line) => proc.stdin?.write(`${line}\n`),
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit !== undefined) {
            cleanup();
            resolve(hit);
          } else if (gone) {
            cleanup();
            reject(new Error(`child exited before printing ${pattern}; it printed:\n${lines.join('\n')}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; it printed:\n${lines.join('\n')}\n${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    kill: async () => {
      if (!gone) proc.kill('SIGKILL');
      await exited;
    },
  };
}
