/**
 * /hooks/vsphere: vCenter events as the VMware Event Broker Appliance
 * sends them, mapped to hints. The event name comes from the CloudEvent
 * type, in both forms VEBA has used:
 *
 *   com.vmware.vsphere.<EventClass or EventTypeId>.v0     (current)
 *   com.vmware.event.router/<event|eventex|extendedevent> with subject = name   (older router)
 *
 * and the data is the vCenter event itself (Key, CreatedTime, Host,
 * ComputeResource, FullFormattedMessage, ...). Only events that say a host
 * or its storage is in trouble, or that the platform's own HA acted, become
 * hints; everything else is ignored with a reason.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isObject, readCloudEvent, type CloudEvent } from './cloudevents.js';
import { timeOf, type HintIntent, type ReadResult } from './event.js';
import { oneLine } from './json.js';
import type { HintKind } from './types.js';

type Data = Record<string, unknown>;

interface Rule {
  readonly kind: HintKind;
  /** The host the event is about, when it is not the event's own `Host`. */
  readonly host?: (d: Data) => string | undefined;
  /** A reason to ignore this particular event, if any. */
  readonly unless?: (d: Data) => string | undefined;
  /** The host named in the event is not the one in trouble (e.g. where HA restarted a VM). */
  readonly clusterOnly?: boolean;
}

const hostDown: Rule = { kind: 'host-unreachable' };
const storage: Rule = { kind: 'storage' };
const clusterAction: Rule = { kind: 'cluster', clusterOnly: true };

// Names compared in lower case: vCenter spells the same family both com.vmware.vc.HA. and com.vmware.vc.ha.
const RULES = new Map<string, Rule>([
  ['hostconnectionlostevent', hostDown],
  ['hostdisconnectedevent', { kind: 'host-unreachable', unless: (d) => (d.Reason === 'userRequest' ? 'disconnected on request' : undefined) }],
  ['hostshutdownevent', hostDown],
  ['hostcnxfailednoconnectionevent', hostDown],
  ['hostcnxfailednetworkerrorevent', hostDown],
  ['hostcnxfailedtimeoutevent', hostDown],
  ['hostreconnectionfailedevent', hostDown],
  ['vmdisconnectedevent', hostDown],
  ['dashostfailedevent', { kind: 'host-unreachable', host: (d) => nameOf(d.FailedHost) }],
  ['dashostisolatedevent', { kind: 'host-unreachable', host: (d) => nameOf(d.IsolatedHost) }],
  ['com.vmware.vc.ha.dashostfailedevent', hostDown],
  ['com.vmware.vc.ha.dashostisolatedevent', hostDown],
  ['com.vmware.vc.ha.hostpartitionedfrommasterevent', hostDown],
  ['com.vmware.vc.ha.dashostcompletenetworkfailureevent', hostDown],
  ['com.vmware.vc.ha.hostnetworkfailedevent', hostDown],
  ['com.vmware.vc.ha.dasfailoverhostfailedevent', hostDown],
  ['com.vmware.vc.ha.dasfailoverhostisolatedevent', hostDown],
  ['com.vmware.vc.ha.dasfailoverhostpartitionedevent', hostDown],
  ['com.vmware.vc.ha.dasfailoverhostunreachableevent', hostDown],
  ['com.vmware.vc.ha.hoststatechangedevent', { kind: 'host-alarm' }],
  ['vmpoweredoffevent', { kind: 'vm-stopped', unless: (d) => (userOf(d) ? `powered off by ${userOf(d)}` : undefined) }],
  ['vmfailoverfailed', { kind: 'vm-stopped' }],
  ['com.vmware.vc.ha.vmrestartedbyhaevent', clusterAction],
  ['com.vmware.vc.ha.clusterfailoveractioninitiatedevent', clusterAction],
  ['com.vmware.vc.ha.clusterfailoveractioncompletedevent', clusterAction],
  ['com.vmware.vc.ha.clusterfailoverinprogressevent', clusterAction],
  ['dasclusterisolatedevent', clusterAction],
  ['esx.problem.storage.apd.start', storage],
  ['esx.problem.storage.apd.timeout', storage],
  ['esx.problem.storage.connectivity.lost', storage],
  ['esx.problem.vmfs.heartbeat.timedout', storage],
  ['esx.problem.vmfs.heartbeat.unrecoverable', storage],
  ['esx.problem.scsi.device.state.permanentloss', storage],
  ['com.vmware.vc.ha.hostdatastorefailedevent', storage],
  ['com.vmware.vc.ha.dashostcompletedatastorefailureevent', storage],
  ['com.vmware.vc.ha.vmcpstoragefailuredetectedforvm', storage],
]);

const PREFIX_RULES: readonly [string, Rule][] = [['esx.problem.vm.kill.unexpected.', { kind: 'vm-stopped' }]];

export function readVsphereHook(headers: IncomingHttpHeaders, body: Buffer): ReadResult {
  const ce = readCloudEvent(headers, body);
  if (!ce.ok) return ce;
  const e = ce.event;
  const data = isObject(e.data) ? e.data : undefined;
  const name = eventName(e, data);
  const dedupeKeys = [`ce\u0000${e.source}\u0000${e.id}`];
  const key = data?.Key;
  if ((typeof key === 'number' && Number.isInteger(key)) || (typeof key === 'string' && /^\d{1,20}$/.test(key))) dedupeKeys.push(`vc\u0000${e.source}\u0000${String(key)}`);
  const ignore = (reason: string): ReadResult => ({ ok: true, event: { source: 'vsphere', type: name ?? e.type, dedupeKeys, outcome: { act: 'ignore', reason } } });

  if (!name) return ignore(`unknown CloudEvent type ${oneLine(e.type, 100)}`);
  if (!data) return ignore('the event carries no vCenter event data');
  const lower = name.toLowerCase();
  if (lower === 'alarmstatuschangedevent') return withIntent(alarm(data, e), name, dedupeKeys);
  const rule = RULES.get(lower) ?? PREFIX_RULES.find(([p]) => lower.startsWith(p))?.[1];
  if (!rule) return ignore(`${oneLine(name, 100)} is not an event Vigil acts on`);
  const why = rule.unless?.(data);
  if (why) return ignore(oneLine(why, 200));
  const host = rule.clusterOnly ? undefined : (rule.host?.(data) ?? hostOf(data));
  return withIntent(intent(rule.kind, data, e, name, host), name, dedupeKeys);
}

function withIntent(outcome: HintIntent | string, type: string, dedupeKeys: string[]): ReadResult {
  if (typeof outcome === 'string') return { ok: true, event: { source: 'vsphere', type, dedupeKeys, outcome: { act: 'ignore', reason: outcome } } };
  return { ok: true, event: { source: 'vsphere', type, dedupeKeys, outcome } };
}

function intent(kind: HintKind, d: Data, e: CloudEvent, name: string, host: string | undefined): HintIntent {
  const platformCluster = nameOf(d.ComputeResource);
  const message = typeof d.FullFormattedMessage === 'string' && d.FullFormattedMessage.trim() ? oneLine(d.FullFormattedMessage) : oneLine(`${name}${host ? ` on ${host}` : ''}`);
  const eventTime = timeOf(d.CreatedTime) ?? timeOf(e.time);
  return {
    act: 'hint',
    kind,
    severity: kind === 'cluster' ? 'warning' : 'error',
    message,
    origin: e.source,
    ...(host ? { host } : {}),
    ...(platformCluster ? { platformCluster } : {}),
    ...(eventTime !== undefined ? { eventTime } : {}),
  };
}

/** Only red alarms on hosts, datastores or clusters are news; a yellow, a green or an alarm on a VM is not. */
function alarm(d: Data, e: CloudEvent): HintIntent | string {
  const to = typeof d.To === 'string' ? d.To.toLowerCase() : '';
  if (to !== 'red') return `alarm changed to ${oneLine(to || 'an unknown status', 20)}, not red`;
  const entity = isObject(d.Entity) ? d.Entity : undefined;
  const entityType = entity && isObject(entity.Entity) && typeof entity.Entity.Type === 'string' ? entity.Entity.Type : '';
  const entityName = nameOf(entity);
  if (entityType === 'HostSystem') return intent('host-alarm', d, e, 'AlarmStatusChangedEvent', entityName ?? hostOf(d));
  if (entityType === 'Datastore') return intent('storage', d, e, 'AlarmStatusChangedEvent', hostOf(d));
  if (entityType === 'ClusterComputeResource') {
    const i = intent('cluster', d, e, 'AlarmStatusChangedEvent', undefined);
    return entityName ? { ...i, platformCluster: entityName } : i;
  }
  return `red alarm on a ${oneLine(entityType || 'entity of unknown type', 60)}, not a host, datastore or cluster`;
}

function eventName(e: CloudEvent, data: Data | undefined): string | undefined {
  const current = /^com\.vmware\.vsphere\.(.+)\.v\d+$/.exec(e.type);
  if (current) return current[1];
  if (e.type.startsWith('com.vmware.event.router/')) {
    if (e.subject && !/^(EventEx|ExtendedEvent)$/i.test(e.subject)) return e.subject;
    if (data && typeof data.EventTypeId === 'string' && data.EventTypeId) return data.EventTypeId;
    return e.subject;
  }
  return undefined;
}

/** The host an event is about: its Host argument, else the object of an EventEx when that is a host. */
function hostOf(d: Data): string | undefined {
  return nameOf(d.Host) ?? (d.ObjectType === 'HostSystem' && typeof d.ObjectName === 'string' ? clean(d.ObjectName) : undefined);
}

function nameOf(v: unknown): string | undefined {
  return isObject(v) && typeof v.Name === 'string' ? clean(v.Name) : undefined;
}

function userOf(d: Data): string | undefined {
  return typeof d.UserName === 'string' ? clean(d.UserName) : undefined;
}

function clean(s: string): string | undefined {
  const t = s.trim();
  return t && t.length <= 255 ? t : undefined;
}
