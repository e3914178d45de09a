/**
 * One catalogue of errors (docs/errors.md). Codes are stable and never
 * reused. `expected` errors are refusals a person can act on (bad input,
 * unknown names); the rest are faults. `retryable` tells the executor and
 * the scheduler whether trying again can help.
 */
export const ErrorCodes = {
  USAGE: 'VIGIL_E_USAGE',
  CONFIG_PARSE: 'VIGIL_E_CONFIG_PARSE',
  CONFIG_INVALID: 'VIGIL_E_CONFIG_INVALID',
  CONFIG_SECRET: 'VIGIL_E_CONFIG_SECRET',
  INVENTORY_INVALID: 'VIGIL_E_INVENTORY_INVALID',
  POLICY_INVALID: 'VIGIL_E_POLICY_INVALID',
  PROVIDER_UNKNOWN: 'VIGIL_E_PROVIDER_UNKNOWN',
  PROVIDER_CONTRACT: 'VIGIL_E_PROVIDER_CONTRACT',
  PROVIDER_UNAVAILABLE: 'VIGIL_E_PROVIDER_UNAVAILABLE',
  PROVIDER_REFUSED: 'VIGIL_E_PROVIDER_REFUSED',
  UNKNOWN_HOST: 'VIGIL_E_UNKNOWN_HOST',
  UNKNOWN_VM: 'VIGIL_E_UNKNOWN_VM',
  UNKNOWN_DATASTORE: 'VIGIL_E_UNKNOWN_DATASTORE',
  UNKNOWN_CLUSTER: 'VIGIL_E_UNKNOWN_CLUSTER',
  UNKNOWN_TASK: 'VIGIL_E_UNKNOWN_TASK',
  TASK_FAILED: 'VIGIL_E_TASK_FAILED',
  TASK_TIMEOUT: 'VIGIL_E_TASK_TIMEOUT',
  FENCE_AUTH: 'VIGIL_E_FENCE_AUTH',
  FENCE_UNREACHABLE: 'VIGIL_E_FENCE_UNREACHABLE',
  FENCE_TIMEOUT: 'VIGIL_E_FENCE_TIMEOUT',
  FENCE_FAILED: 'VIGIL_E_FENCE_FAILED',
  JOURNAL_FOREIGN: 'VIGIL_E_JOURNAL_FOREIGN',
  JOURNAL_CORRUPT: 'VIGIL_E_JOURNAL_CORRUPT',
  STATE_LOCKED: 'VIGIL_E_STATE_LOCKED',
  NOT_LEADER: 'VIGIL_E_NOT_LEADER',
  PLAN_REFUSED: 'VIGIL_E_PLAN_REFUSED',
  INTERNAL: 'VIGIL_E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface VigilErrorOptions {
  retryable?: boolean;
  expected?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly expected: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: VigilErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.expected = options.expected ?? false;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.details };
  }
}

export function isVigilError(e: unknown): e is VigilError {
  return e instanceof VigilError;
}

/** The message of any thrown value, for logs and decision reasons. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
