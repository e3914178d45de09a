/**
 * vSphere's faults and transport failures as Vigil errors. Each message names
 * the call that failed; none carries a password, a cookie or a request body.
 * Refusals a person can act on (wrong password, a host in the wrong state,
 * a locked file) are `expected`; faults where trying again can help (a task
 * in progress, vCenter unreachable) are `retryable`.
 */
import { ErrorCodes, VigilError, type ErrorCode } from '../../src/errors.js';
import { SoapFault, SoapProtocolError } from './soap.js';

/** Faults a later attempt may not meet again. */
const RETRYABLE_FAULTS = new Set([
  'TaskInProgress',
  'ResourceInUse',
  'ConcurrentAccess',
  'HostCommunication',
  'HostNotReachable',
  'RequestCanceled',
  'Timedout',
  'NotAuthenticated',
  'SystemError',
]);

/** Faults that say "no" to this request as it stands. */
const REFUSALS = new Set([
  'InvalidLogin',
  'NoPermission',
  'NotSupported',
  'MethodNotFound',
  'MethodDisabled',
  'InvalidArgument',
  'InvalidRequest',
  'InvalidState',
  'InvalidPowerState',
  'InvalidHostState',
  'InvalidHostConnectionState',
  'HostNotConnected',
  'HostInDomain',
  'FileLocked',
  'FileNotFound',
  'FileFault',
  'AlreadyExists',
  'DuplicateName',
  'InvalidDatastore',
  'InvalidDatastorePath',
  'InaccessibleDatastore',
  'InsufficientResourcesFault',
  'NotEnoughLicenses',
  'MigrationFault',
  'VMotionInterrupted',
  'VmConfigFault',
  'DisallowedOperationOnFailoverHost',
  'TaskInProgress',
  'ResourceInUse',
]);

export function isRetryableFault(faultType: string): boolean {
  return RETRYABLE_FAULTS.has(faultType);
}

export interface TranslateOptions {
  /** The code for ManagedObjectNotFound: which kind of thing was not found. */
  readonly notFound?: ErrorCode;
  /** The user name, for a login refusal (it is not a secret; the password is). */
  readonly username?: string;
}

export function translate(e: unknown, what: string, o: TranslateOptions = {}): VigilError {
  if (e instanceof VigilError) return e;
  if (e instanceof SoapFault) return fromFault(e, what, o);
  if (e instanceof SoapProtocolError) {
    const message = `${what}: ${e.message}`;
    if (e.problem === 'tls') return new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, message, { expected: true, retryable: false, details: { problem: e.problem } });
    return new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, message, { retryable: true, details: { problem: e.problem, ...(e.status ? { status: e.status } : {}) } });
  }
  // Never pass the original on as a cause: an HTTP library's error holds the request, password included.
  return new VigilError(ErrorCodes.INTERNAL, `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

function fromFault(f: SoapFault, what: string, o: TranslateOptions): VigilError {
  const details = { fault: f.faultType, call: f.method };
  const text = f.faultString ? `${f.faultType}: ${f.faultString}` : f.faultType;
  const message = `${what}: ${f.method} failed: ${text}`;
  switch (f.faultType) {
    case 'InvalidLogin':
      return new VigilError(ErrorCodes.PROVIDER_REFUSED, `${what}: vCenter refused the login${o.username ? ` of ${o.username}` : ''}: incorrect user name or password`, { expected: true, details });
    case 'NotAuthenticated':
      return new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `${what}: ${f.method} failed: the session was lost again right after logging in`, { retryable: true, details });
    case 'ManagedObjectNotFound':
      return new VigilError(o.notFound ?? ErrorCodes.PROVIDER_REFUSED, message, { expected: true, details });
    case 'NoPermission':
      return new VigilError(ErrorCodes.PROVIDER_REFUSED, `${message} (the vCenter user lacks a privilege; see docs/providers/vsphere.md)`, { expected: true, details });
  }
  if (isRetryableFault(f.faultType)) {
    const code = REFUSALS.has(f.faultType) ? ErrorCodes.PROVIDER_REFUSED : ErrorCodes.PROVIDER_UNAVAILABLE;
    return new VigilError(code, message, { retryable: true, expected: code === ErrorCodes.PROVIDER_REFUSED, details });
  }
  if (REFUSALS.has(f.faultType)) return new VigilError(ErrorCodes.PROVIDER_REFUSED, message, { expected: true, details });
  return new VigilError(ErrorCodes.PROVIDER_REFUSED, message, { details });
}
