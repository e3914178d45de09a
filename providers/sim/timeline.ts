/**
 * Scripted lab events ("at 30s, esx-01 fails"): used by `npm start` for its
 * first failover, by the demo, and as the lab half of scenario timelines.
 */
import { z } from 'zod';
import { parseDuration } from '../../src/clock/duration.js';
import type { Clock } from '../../src/clock/clock.js';
import type { Problem } from '../../src/config/problems.js';
import { checkSchema, problemAt, type YamlDocument } from '../../src/config/yaml-source.js';
import type { Lab } from './lab.js';

const datastoreTarget = z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), host: z.string().min(1).optional() })]);
/** `stopVms: true`: the running VMs there that use it stop (a permanent device loss), instead of hanging on. */
const datastoreFailure = z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), host: z.string().min(1).optional(), stopVms: z.boolean().optional() })]);

/** Lab events a timeline can hold, with the shape of their argument. */
export const LAB_EVENTS = {
  'fail-host': z.string().min(1),
  'recover-host': z.string().min(1),
  'isolate-host': z.string().min(1),
  'partition-host': z.string().min(1),
  'power-off-host': z.string().min(1),
  'power-on-host': z.string().min(1),
  'fail-datastore': datastoreFailure,
  'recover-datastore': datastoreTarget,
  /** Sets free space now and/or a rate it falls at: `{name: ds-01, freeGiB: 40, fillGiBPerHour: 2}`. */
  'fill-datastore': z
    .strictObject({ name: z.string().min(1), freeGiB: z.number().nonnegative().optional(), fillGiBPerHour: z.number().optional() })
    .refine((v) => v.freeGiB !== undefined || v.fillGiBPerHour !== undefined, 'set freeGiB, fillGiBPerHour or both'),
  'degrade-datastore': z.strictObject({ name: z.string().min(1), host: z.string().min(1) }),
  'undegrade-datastore': z.strictObject({ name: z.string().min(1), host: z.string().min(1) }),
  'suspend-replication': z.string().min(1),
  'resume-replication': z.string().min(1),
  'enter-maintenance': z.string().min(1),
  'exit-maintenance': z.string().min(1),
  'fail-start': z.union([z.string().min(1), z.strictObject({ vm: z.string().min(1), count: z.number().int().min(1).default(1) })]),
  'fail-migration': z.union([z.string().min(1), z.strictObject({ vm: z.string().min(1), count: z.number().int().min(1).default(1) })]),
  'api-errors': z.number().int().nonnegative(),
  'api-latency': z.string().min(1),
} as const;

export type LabEventName = keyof typeof LAB_EVENTS;

export interface TimelineEvent {
  /** Milliseconds after the start. */
  readonly at: number;
  readonly name: string;
  readonly arg: unknown;
  /** Where it was written, for error messages. */
  readonly source?: { readonly doc: YamlDocument; readonly path: (string | number)[] };
}

/**
 * Reads `events:` (a list of `{at: 30s, <event>: <argument>}`) from a
 * document. `extra` adds event kinds the caller handles itself (the scenario
 * runner's controller events).
 */
export function parseTimelineEvents(d: YamlDocument, value: unknown, basePath: (string | number)[], extra: Record<string, z.ZodType> = {}): { events: TimelineEvent[]; problems: Problem[] } {
  const kinds: Record<string, z.ZodType> = { ...LAB_EVENTS, ...extra };
  const problems: Problem[] = [];
  const events: TimelineEvent[] = [];
  if (!Array.isArray(value)) return { events, problems: [problemAt(d, basePath, 'events must be a list')] };
  value.forEach((raw, i) => {
    const path = [...basePath, i];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(problemAt(d, path, 'an event is a mapping like {at: 30s, fail-host: esx-01}'));
      return;
    }
    const entry = raw as Record<string, unknown>;
    const at = typeof entry.at === 'string' ? parseDuration(entry.at) : entry.at === 0 ? 0 : undefined;
    if (at === undefined) problems.push(problemAt(d, [...path, 'at'], 'at: must be a duration such as 30s'));
    const names = Object.keys(entry).filter((k) => k !== 'at');
    if (names.length !== 1) {
      problems.push(problemAt(d, path, `an event has exactly one action besides "at" (known: ${Object.keys(kinds).join(', ')})`));
      return;
    }
    const name = names[0] as string;
    const schema = kinds[name];
    if (!schema) {
      problems.push(problemAt(d, [...path, name], `unknown event "${name}" (known: ${Object.keys(kinds).join(', ')})`, 'error', true));
      return;
    }
    const checked = checkSchema(d, schema, entry[name], [...path, name]);
    if (!checked.ok) {
      problems.push(...checked.problems);
      return;
    }
    if (at !== undefined) events.push({ at, name, arg: checked.value, source: { doc: d, path: [...path, name] } });
  });
  events.sort((a, b) => a.at - b.at);
  return { events, problems };
}

/** Applies one lab event; throws the lab's error for an unknown host or datastore. */
export function applyLabEvent(lab: Lab, name: string, arg: unknown): void {
  const ds = (a: unknown): { name: string; host?: string; stopVms?: boolean } => (typeof a === 'string' ? { name: a } : (a as { name: string; host?: string; stopVms?: boolean }));
  switch (name as LabEventName) {
    case 'fail-host':
      return lab.failHost(arg as string);
    case 'recover-host':
      return lab.recoverHost(arg as string);
    case 'isolate-host':
      return lab.isolateHost(arg as string);
    case 'partition-host':
      return lab.partitionHost(arg as string);
    case 'power-off-host':
      return lab.bmcReset(arg as string, 'ForceOff');
    case 'power-on-host':
      return lab.bmcReset(arg as string, 'On');
    case 'fail-datastore':
      return lab.failDatastore(ds(arg).name, ds(arg).host, ds(arg).stopVms ?? false);
    case 'recover-datastore':
      return lab.recoverDatastore(ds(arg).name, ds(arg).host);
    case 'fill-datastore': {
      const a = arg as { name: string; freeGiB?: number; fillGiBPerHour?: number };
      return lab.fillDatastore(a.name, { ...(a.freeGiB !== undefined ? { freeGiB: a.freeGiB } : {}), ...(a.fillGiBPerHour !== undefined ? { fillGiBPerHour: a.fillGiBPerHour } : {}) });
    }
    case 'degrade-datastore':
    case 'undegrade-datastore': {
      const a = arg as { name: string; host: string };
      return lab.degradeDatastore(a.name, a.host, name === 'degrade-datastore');
    }
    case 'suspend-replication':
      return lab.suspendReplication(arg as string, true);
    case 'resume-replication':
      return lab.suspendReplication(arg as string, false);
    case 'enter-maintenance':
      lab.setMaintenance(arg as string, true);
      return;
    case 'exit-maintenance':
      lab.setMaintenance(arg as string, false);
      return;
    case 'fail-start': {
      const a = typeof arg === 'string' ? { vm: arg, count: 1 } : (arg as { vm: string; count: number });
      return lab.failStarts(a.vm, a.count);
    }
    case 'fail-migration': {
      const a = typeof arg === 'string' ? { vm: arg, count: 1 } : (arg as { vm: string; count: number });
      return lab.failMigrations(a.vm, a.count);
    }
    case 'api-errors':
      return lab.setApiFaults({ failNext: arg as number });
    case 'api-latency':
      return lab.setApiFaults({ latencyMs: parseDuration(arg as string) ?? 0 });
    default:
      throw new Error(`not a lab event: ${name}`);
  }
}

export function isLabEvent(name: string): name is LabEventName {
  return Object.hasOwn(LAB_EVENTS, name);
}

/** Schedules the lab events of a timeline on the clock, relative to now. Returns a cancel function. */
export function scheduleLabTimeline(lab: Lab, clock: Clock, events: readonly TimelineEvent[], onError: (e: unknown, ev: TimelineEvent) => void): () => void {
  const start = clock.now();
  const handles = events
    .filter((e) => isLabEvent(e.name))
    .map((ev) =>
      clock.setTimeout(() => {
        try {
          applyLabEvent(lab, ev.name, ev.arg);
        } catch (e) {
          onError(e, ev);
        }
      }, ev.at - (clock.now() - start)),
    );
  return () => handles.forEach((h) => clock.clearTimeout(h));
}
