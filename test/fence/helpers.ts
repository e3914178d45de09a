/** Shared bits of the fencing tests: a logger whose lines can be read back, and a fence context. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SystemClock, type Clock } from '../../src/clock/clock.js';
import { REDACT_PATHS, type Logger } from '../../src/log.js';
import type { FenceContext } from '../../src/fence/types.js';

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line written so far, as JSON text. */
  lines(): string[];
}

/** A logger at trace level, with the same redaction as Vigil's own, that keeps its lines. */
export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const logger = pino({ level: 'trace', base: undefined, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  return { logger, lines: () => [...lines] };
}

export function fenceContext(options: { clock?: Clock; logger?: Logger; baseDir?: string } = {}): FenceContext {
  return { clock: options.clock ?? new SystemClock(), logger: options.logger ?? captureLog().logger, baseDir: options.baseDir ?? process.cwd() };
}

/** Resolves to the error a promise rejects with; fails the test when it resolves. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the error's fields freely
export async function rejectionOf(p: Promise<unknown>): Promise<any> {
  try {
    const value = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('expected a rejection')) throw e;
    return e;
  }
}
