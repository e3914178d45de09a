/**
 * The API answers Vigil reads, checked row by row. A row without the keys
 * that identify it (a guest without `vmid` or `node`) makes the whole
 * answer malformed, naming the endpoint; a row missing a figure keeps that
 * figure `undefined`, so the mapping can say "unknown" instead of guessing.
 */
import { PveMalformedError } from './errors.js';

export interface ResourceNode {
  readonly node: string;
  readonly status?: string;
  readonly maxcpu?: number;
  readonly maxmem?: number;
}

export interface ResourceGuest {
  readonly type: 'qemu' | 'lxc';
  readonly vmid: number;
  readonly node: string;
  readonly name?: string;
  readonly status?: string;
  readonly maxcpu?: number;
  readonly maxmem?: number;
  readonly lock?: string;
  readonly hastate?: string;
  readonly tags?: string;
  readonly pool?: string;
  readonly template: boolean;
}

export interface ResourceStorage {
  readonly storage: string;
  readonly node: string;
  readonly shared: boolean;
  readonly status?: string;
  readonly disk?: number;
  readonly maxdisk?: number;
  readonly plugintype?: string;
  readonly content?: string;
}

export interface Resources {
  readonly nodes: ResourceNode[];
  readonly guests: ResourceGuest[];
  readonly storages: ResourceStorage[];
}

export interface ClusterStatus {
  /** Undefined on a single node that is not part of a cluster. */
  readonly quorate?: boolean;
  readonly clusterName?: string;
  readonly nodes: Map<string, { readonly online?: boolean; readonly ip?: string; readonly local?: boolean }>;
}

export interface HaService {
  readonly sid: string;
  readonly node?: string;
  readonly crmState?: string;
  readonly state?: string;
  readonly requestState?: string;
}

export interface HaStatus {
  readonly quorate?: boolean;
  /** lrm:<node> status text per node, e.g. "pve2 (maintenance mode, Tue ...)". */
  readonly lrm: Map<string, string>;
  readonly services: Map<string, HaService>;
}

export interface NodeStorageStatus {
  readonly storage: string;
  readonly active?: boolean;
  readonly enabled?: boolean;
  readonly shared?: boolean;
  readonly total?: number;
  readonly used?: number;
  readonly avail?: number;
}

export interface ReplicationJob {
  readonly id: string;
  readonly guest: number;
  readonly target: string;
  readonly source?: string;
  readonly lastSync?: number;
  readonly failCount?: number;
  readonly duration?: number;
  readonly error?: string;
  readonly disabled: boolean;
}

type Row = Record<string, unknown>;

export function rows(data: unknown, endpoint: string): Row[] {
  if (!Array.isArray(data)) throw new PveMalformedError('GET', endpoint, `expected a list, got ${data === null ? 'null' : typeof data}`);
  return data.map((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new PveMalformedError('GET', endpoint, `entry ${i} is not an object`);
    return r as Row;
  });
}

function str(r: Row, k: string): string | undefined {
  const v = r[k];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function num(r: Row, k: string): number | undefined {
  const v = r[k];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** PVE booleans arrive as 0/1 (and sometimes true/false or "1"). */
function bool(r: Row, k: string): boolean | undefined {
  const v = r[k];
  if (v === 1 || v === true || v === '1') return true;
  if (v === 0 || v === false || v === '0') return false;
  return undefined;
}

function need<T>(v: T | undefined, endpoint: string, i: number, what: string): T {
  if (v === undefined) throw new PveMalformedError('GET', endpoint, `entry ${i} has no ${what}`);
  return v;
}

export function parseResources(data: unknown, endpoint = '/api2/json/cluster/resources'): Resources {
  const out: Resources = { nodes: [], guests: [], storages: [] };
  rows(data, endpoint).forEach((r, i) => {
    const type = need(str(r, 'type'), endpoint, i, '"type"');
    if (type === 'node') {
      out.nodes.push({ node: need(str(r, 'node'), endpoint, i, '"node"'), status: str(r, 'status'), maxcpu: num(r, 'maxcpu'), maxmem: num(r, 'maxmem') });
    } else if (type === 'qemu' || type === 'lxc') {
      const vmid = need(num(r, 'vmid'), endpoint, i, '"vmid"');
      out.guests.push({
        type,
        vmid,
        node: need(str(r, 'node'), endpoint, i, '"node"'),
        name: str(r, 'name'),
        status: str(r, 'status'),
        maxcpu: num(r, 'maxcpu'),
        maxmem: num(r, 'maxmem'),
        lock: str(r, 'lock') || undefined,
        hastate: str(r, 'hastate') || undefined,
        tags: str(r, 'tags'),
        pool: str(r, 'pool'),
        template: bool(r, 'template') === true,
      });
    } else if (type === 'storage') {
      out.storages.push({
        storage: need(str(r, 'storage'), endpoint, i, '"storage"'),
        node: need(str(r, 'node'), endpoint, i, '"node"'),
        shared: bool(r, 'shared') === true,
        status: str(r, 'status'),
        disk: num(r, 'disk'),
        maxdisk: num(r, 'maxdisk'),
        plugintype: str(r, 'plugintype'),
        content: str(r, 'content'),
      });
    }
  });
  return out;
}

export function parseClusterStatus(data: unknown, endpoint = '/api2/json/cluster/status'): ClusterStatus {
  let quorate: boolean | undefined;
  let clusterName: string | undefined;
  const nodes = new Map<string, { online?: boolean; ip?: string; local?: boolean }>();
  rows(data, endpoint).forEach((r, i) => {
    const type = need(str(r, 'type'), endpoint, i, '"type"');
    if (type === 'cluster') {
      quorate = bool(r, 'quorate');
      clusterName = str(r, 'name');
    } else if (type === 'node') {
      nodes.set(need(str(r, 'name'), endpoint, i, '"name"'), { online: bool(r, 'online'), ip: str(r, 'ip'), local: bool(r, 'local') });
    }
  });
  return { quorate, clusterName, nodes };
}

export function parseHaStatus(data: unknown, endpoint = '/api2/json/cluster/ha/status/current'): HaStatus {
  let quorate: boolean | undefined;
  const lrm = new Map<string, string>();
  const services = new Map<string, HaService>();
  rows(data, endpoint).forEach((r, i) => {
    const type = need(str(r, 'type'), endpoint, i, '"type"');
    if (type === 'quorum') quorate = bool(r, 'quorate');
    else if (type === 'lrm') lrm.set(need(str(r, 'node'), endpoint, i, '"node"'), str(r, 'status') ?? '');
    else if (type === 'service') {
      const sid = need(str(r, 'sid'), endpoint, i, '"sid"');
      services.set(sid, { sid, node: str(r, 'node'), crmState: str(r, 'crm_state'), state: str(r, 'state'), requestState: str(r, 'request_state') });
    }
  });
  return { quorate, lrm, services };
}

export function parseNodeStorage(data: unknown, endpoint: string): NodeStorageStatus[] {
  return rows(data, endpoint).map((r, i) => ({
    storage: need(str(r, 'storage'), endpoint, i, '"storage"'),
    active: bool(r, 'active'),
    enabled: bool(r, 'enabled'),
    shared: bool(r, 'shared'),
    total: num(r, 'total'),
    used: num(r, 'used'),
    avail: num(r, 'avail'),
  }));
}

/** Volumes of one storage: which guest owns which. */
export function parseContent(data: unknown, endpoint: string): number[] {
  return rows(data, endpoint)
    .map((r) => num(r, 'vmid'))
    .filter((v): v is number => v !== undefined);
}

/** /cluster/replication (job configs). */
export function parseReplicationJobs(data: unknown, endpoint = '/api2/json/cluster/replication'): ReplicationJob[] {
  return rows(data, endpoint).map((r, i) => ({
    id: need(str(r, 'id'), endpoint, i, '"id"'),
    guest: need(num(r, 'guest'), endpoint, i, '"guest"'),
    target: need(str(r, 'target'), endpoint, i, '"target"'),
    source: str(r, 'source'),
    disabled: bool(r, 'disable') === true,
  }));
}

/** /nodes/{node}/replication (job states on the source node). */
export function parseReplicationStatus(data: unknown, endpoint: string): Map<string, Pick<ReplicationJob, 'lastSync' | 'failCount' | 'duration' | 'error'>> {
  const out = new Map<string, Pick<ReplicationJob, 'lastSync' | 'failCount' | 'duration' | 'error'>>();
  rows(data, endpoint).forEach((r, i) => {
    out.set(need(str(r, 'id'), endpoint, i, '"id"'), { lastSync: num(r, 'last_sync'), failCount: num(r, 'fail_count'), duration: num(r, 'duration'), error: str(r, 'error') });
  });
  return out;
}
