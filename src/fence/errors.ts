/**
 * Fence errors: one constructor for the four VIGIL_E_FENCE_* codes, and a
 * scrubber that removes credentials from any text (a BMC's answer, a tool's
 * output) before it reaches a message. A fence error never carries a
 * library's error object as its cause: those hold request headers.
 */
import { ErrorCodes, VigilError } from '../errors.js';

export type FenceErrorCode =
  | typeof ErrorCodes.FENCE_AUTH
  | typeof ErrorCodes.FENCE_UNREACHABLE
  | typeof ErrorCodes.FENCE_TIMEOUT
  | typeof ErrorCodes.FENCE_FAILED;

/** Whether a person can act on it, and whether trying again can help, by default per code. */
const DEFAULTS: Record<FenceErrorCode, { expected: boolean; retryable: boolean }> = {
  [ErrorCodes.FENCE_AUTH]: { expected: true, retryable: false },
  [ErrorCodes.FENCE_UNREACHABLE]: { expected: false, retryable: true },
  [ErrorCodes.FENCE_TIMEOUT]: { expected: false, retryable: true },
  [ErrorCodes.FENCE_FAILED]: { expected: false, retryable: false },
};

export interface FenceErrorOptions {
  readonly expected?: boolean;
  readonly retryable?: boolean;
  /** Plain values only (strings, numbers): they are serialised into status and logs. */
  readonly details?: Record<string, unknown>;
}

export function fenceError(code: FenceErrorCode, message: string, options: FenceErrorOptions = {}): VigilError {
  const d = DEFAULTS[code];
  return new VigilError(code, message, {
    expected: options.expected ?? d.expected,
    retryable: options.retryable ?? d.retryable,
    details: options.details ?? {},
  });
}

export function isFenceCode(code: string): code is FenceErrorCode {
  return code === ErrorCodes.FENCE_AUTH || code === ErrorCodes.FENCE_UNREACHABLE || code === ErrorCodes.FENCE_TIMEOUT || code === ErrorCodes.FENCE_FAILED;
}

/**
 * Replaces every occurrence of each secret (and of its Basic-auth and
 * base64 forms) with "[redacted]", and bounds the length, so that text
 * quoted from a peer can go into a message.
 */
export function scrub(text: string, secrets: readonly string[], max = 500): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of [s, Buffer.from(s).toString('base64')]) out = out.split(form).join('[redacted]');
  }
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
