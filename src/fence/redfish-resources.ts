/**
 * Reading Redfish resources: the few properties fencing needs, checked for
 * shape. Anything missing or of the wrong type is a VIGIL_E_FENCE_FAILED
 * error naming the URL it came from, never a default: a PowerState we could
 * not read is not "Off".
 */
import { ErrorCodes } from '../errors.js';
import { fenceError } from './errors.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function shapeError(url: string, what: string, extra: Record<string, unknown> = {}): Error {
  return fenceError(ErrorCodes.FENCE_FAILED, `unexpected answer from ${url}: ${what}`, { details: { url, ...extra } });
}

/** The body as a JSON object, or a shape error naming the URL. */
export function asResource(body: unknown, url: string): Json {
  if (isObject(body)) return body;
  const kind = body === undefined ? 'an empty body' : typeof body === 'string' ? 'text that is not JSON' : `a JSON ${Array.isArray(body) ? 'array' : typeof body}`;
  throw shapeError(url, `expected a JSON object, got ${kind}`);
}

export function odataId(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const id = v['@odata.id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** `Members[].@odata.id` of a collection. */
export function readMembers(body: unknown, url: string): string[] {
  const res = asResource(body, url);
  const members = res.Members;
  if (!Array.isArray(members)) throw shapeError(url, 'the collection has no Members array');
  return members.map((m, i) => {
    const id = odataId(m);
    if (!id) throw shapeError(url, `Members[${i}] has no @odata.id`);
    return id;
  });
}

/** Redfish PowerState values (Resource.PowerState). */
export const POWER_STATES = ['On', 'Off', 'PoweringOn', 'PoweringOff', 'Paused'] as const;

export function readPowerState(body: unknown, url: string): string {
  const res = asResource(body, url);
  const state = res.PowerState;
  if (typeof state !== 'string' || state === '') throw shapeError(url, 'the ComputerSystem has no PowerState');
  return state;
}

export interface ResetAction {
  /** The URI to POST to, as the resource gives it. */
  readonly target: string;
  /** `ResetType@Redfish.AllowableValues`, when listed inline. */
  readonly allowable?: readonly string[];
  /** `@Redfish.ActionInfo`, where some BMCs list the allowable values instead. */
  readonly actionInfo?: string;
}

export function readResetAction(body: unknown, url: string): ResetAction {
  const res = asResource(body, url);
  const actions = res.Actions;
  const reset = isObject(actions) ? actions['#ComputerSystem.Reset'] : undefined;
  if (!isObject(reset)) throw shapeError(url, 'the ComputerSystem has no #ComputerSystem.Reset action');
  const target = reset.target;
  if (typeof target !== 'string' || target === '') throw shapeError(url, '#ComputerSystem.Reset has no target');
  const allowed = reset['ResetType@Redfish.AllowableValues'];
  const info = reset['@Redfish.ActionInfo'];
  return {
    target,
    ...(Array.isArray(allowed) ? { allowable: allowed.filter((v): v is string => typeof v === 'string') } : {}),
    ...(typeof info === 'string' && info !== '' ? { actionInfo: info } : {}),
  };
}

/** AllowableValues of the ResetType parameter of an ActionInfo resource, if it lists them. */
export function readActionInfoAllowable(body: unknown, url: string): string[] | undefined {
  const res = asResource(body, url);
  const params = res.Parameters;
  if (!Array.isArray(params)) return undefined;
  const p = params.find((x): x is Json => isObject(x) && x.Name === 'ResetType');
  if (!p || !Array.isArray(p.AllowableValues)) return undefined;
  return p.AllowableValues.filter((v): v is string => typeof v === 'string');
}

/**
 * Reset types that end with the system off, best first. ForceOff cuts power
 * at once; GracefulShutdown and PushPowerButton are used only when the BMC
 * offers no ForceOff, and the PowerState poll still decides whether the host
 * is off (a hung OS will ignore a graceful request, and the fence times out).
 */
export const OFF_RESET_TYPES = ['ForceOff', 'GracefulShutdown', 'PushPowerButton'] as const;

/** The off reset type to send; undefined when the BMC lists values and none of them turns the system off. */
export function chooseOffType(allowable: readonly string[] | undefined, preferred: readonly string[] = OFF_RESET_TYPES): string | undefined {
  // Redfish: without AllowableValues, every ResetType of the schema is allowed.
  if (allowable === undefined) return preferred[0];
  return preferred.find((t) => allowable.includes(t));
}

export type TaskOutcome = 'running' | 'completed' | 'failed';

/** A Task resource's state, or undefined when the body is not a Task. */
export function readTask(body: unknown): { outcome: TaskOutcome; state: string; message: string } | undefined {
  if (!isObject(body) || typeof body.TaskState !== 'string') return undefined;
  const state = body.TaskState;
  const status = typeof body.TaskStatus === 'string' ? body.TaskStatus : '';
  const message = messagesOf(body.Messages);
  if (state === 'Completed') return { outcome: status === 'Critical' ? 'failed' : 'completed', state, message };
  if (state === 'Exception' || state === 'Killed' || state === 'Cancelled') return { outcome: 'failed', state, message };
  return { outcome: 'running', state, message };
}

function messagesOf(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages
    .map((m) => (isObject(m) && typeof m.Message === 'string' ? m.Message : ''))
    .filter((m) => m !== '')
    .join('; ');
}

/** The human part of a Redfish error body (`error.message` and its extended info), for messages. */
export function redfishErrorText(body: unknown): string {
  if (typeof body === 'string') return body.trim();
  if (!isObject(body) || !isObject(body.error)) return '';
  const err = body.error;
  const parts: string[] = [];
  const ext = messagesOf(err['@Message.ExtendedInfo']);
  if (ext) parts.push(ext);
  else if (typeof err.message === 'string') parts.push(err.message);
  if (typeof err.code === 'string') parts.push(`(${err.code})`);
  return parts.join(' ');
}
