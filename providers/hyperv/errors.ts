/**
 * Translates what comes back from PowerShell into Vigil's errors. Two kinds:
 * a protocol fault (the session died, timed out, wrote to stderr, or wrote
 * something that is not the one JSON answer) is a HyperVProtocolError that
 * carries the first line of what came back; a failure the script caught is
 * mapped from its error id and category to an ErrorCodes code.
 */
import { ErrorCodes, VigilError, type ErrorCode } from '../../src/errors.js';

export type ProtocolFault = 'unexpected-output' | 'stderr' | 'timeout' | 'exited' | 'spawn' | 'shape';

export class HyperVProtocolError extends VigilError {
  constructor(
    readonly fault: ProtocolFault,
    readonly firstLine: string,
    message: string,
    retryable: boolean,
    cause?: unknown,
  ) {
    super(ErrorCodes.PROVIDER_UNAVAILABLE, message, { retryable, cause, details: { reason: fault, firstLine } });
    this.name = 'HyperVProtocolError';
  }
}

/** The first non-empty line of some text, cut to a readable length. */
export function firstLineOf(text: string, max = 200): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/** A failure as the scripts report it: {"ok":false,"error":{...}}. */
export interface ScriptFailure {
  readonly type: string;
  readonly message: string;
  readonly category: string;
  readonly id: string;
}

interface Mapped {
  code: ErrorCode;
  expected: boolean;
  retryable: boolean;
}

/** `subject` says which unknown-name code an ObjectNotFound means for this operation. */
export function translateFailure(f: ScriptFailure, what: string, subject: 'vm' | 'host' | 'none' = 'none'): VigilError {
  const id = f.id.split(',')[0] ?? '';
  const m = mapFailure(id, f.category, subject);
  return new VigilError(m.code, `${what}: ${f.message}`, { expected: m.expected, retryable: m.retryable, details: { platformError: id || f.type, category: f.category } });
}

function mapFailure(id: string, category: string, subject: 'vm' | 'host' | 'none'): Mapped {
  switch (id) {
    case 'VigilUnknownVm':
      return { code: ErrorCodes.UNKNOWN_VM, expected: true, retryable: false };
    case 'VigilUnknownHost':
      return { code: ErrorCodes.UNKNOWN_HOST, expected: true, retryable: false };
    case 'VigilRefused':
    case 'VigilConfigUnreachable':
      return { code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false };
    case 'VigilNoPassword':
      return { code: ErrorCodes.CONFIG_SECRET, expected: true, retryable: false };
  }
  switch (category) {
    case 'ObjectNotFound':
      return { code: subject === 'vm' ? ErrorCodes.UNKNOWN_VM : subject === 'host' ? ErrorCodes.UNKNOWN_HOST : ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false };
    case 'PermissionDenied':
    case 'SecurityError':
    case 'AuthenticationError':
      return { code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false };
    case 'ResourceBusy':
      return { code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: true };
    case 'ConnectionError':
    case 'OpenError':
    case 'ResourceUnavailable':
    case 'OperationTimeout':
    case 'ReadError':
    case 'WriteError':
      return { code: ErrorCodes.PROVIDER_UNAVAILABLE, expected: false, retryable: true };
    case 'InvalidOperation':
    case 'InvalidArgument':
    case 'InvalidData':
    case 'InvalidType':
    case 'NotEnabled':
    case 'NotImplemented':
    case 'NotInstalled':
    case 'LimitsExceeded':
    case 'QuotaExceeded':
      return { code: ErrorCodes.PROVIDER_REFUSED, expected: true, retryable: false };
    default:
      return { code: ErrorCodes.PROVIDER_REFUSED, expected: false, retryable: false };
  }
}
