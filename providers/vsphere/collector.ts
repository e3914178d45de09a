/**
 * Keeps the local copy of the cluster current in as few round trips as the
 * API allows:
 *
 *   full read     one ContainerView over the configured cluster (or
 *                 datacenter) and one RetrievePropertiesEx with a
 *                 TraversalSpec (plus ContinueRetrievePropertiesEx pages);
 *   incremental   one WaitForUpdatesEx (maxWaitSeconds 0) on a
 *                 PropertyCollector of Vigil's own with the same filter: one
 *                 round trip when nothing changed.
 *
 * It falls back to a full read when the update stream cannot be trusted (its
 * collector vanished with a lost session, a call failed half way, the
 * periodic re-read is due), and re-reads the objects Vigil's own operations
 * touched so a snapshot after a finished task shows its effect.
 */
import type { Clock } from '../../src/clock/clock.js';
import { ErrorCodes, VigilError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { InventoryCache, PROPERTIES } from './inventory.js';
import { filterSpec, objectSpec, parseUpdateSet, retrieveAll, traversal } from './props.js';
import type { Session } from './session.js';
import { SoapFault } from './soap.js';
import { child, el, moRef, refEl, text, type MoRef } from './xml.js';

export interface Scope {
  readonly datacenter: MoRef;
  readonly datacenterPath: string;
  readonly vmFolder: MoRef;
  readonly cluster?: MoRef;
}

export interface CollectorOptions {
  readonly datacenter?: string;
  readonly cluster?: string;
  readonly pageSize: number;
  readonly fullReadIntervalMs: number;
  /** Keep a WaitForUpdatesEx stream (the service); a one-shot command only reads. */
  readonly watch: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

interface Watch {
  readonly collector: MoRef;
  version: string;
  readonly generation: number;
}

export class InventoryCollector {
  readonly cache = new InventoryCache();
  private scope?: Scope;
  private view?: { readonly ref: MoRef; readonly generation: number };
  private watch?: Watch;
  private lastFullAt = Number.NEGATIVE_INFINITY;
  private readonly touched = new Map<string, MoRef>();
  /** Full reads and incremental polls so far, for tests and the benchmark. */
  readonly counts = { full: 0, incremental: 0 };

  constructor(
    private readonly session: Session,
    private readonly o: CollectorOptions,
  ) {}

  /** The datacenter (and cluster) this provider covers, resolved once. */
  async resolveScope(signal?: AbortSignal): Promise<Scope> {
    if (this.scope) return this.scope;
    const sc = await this.session.serviceContent(signal);
    let datacenter: MoRef | undefined;
    let path = this.o.datacenter;
    if (path) {
      datacenter = await this.findByPath(sc.searchIndex, path, signal);
      if (datacenter?.type !== 'Datacenter') throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `vCenter has no datacenter "${path}"`, { expected: true });
    } else {
      const { objects } = await retrieveAll(this.session, sc.propertyCollector, filterSpec({ Datacenter: ['name'] }, objectSpec(sc.rootFolder, true, traversal('root', 'Folder', 'childEntity'))), this.o.pageSize, signal);
      const dcs = objects.filter((o) => o.obj.type === 'Datacenter');
      if (dcs.length !== 1) {
        const names = dcs.map((d) => text(d.props.get('name')) ?? d.obj.value);
        throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, names.length ? `vCenter has ${names.length} datacenters (${names.join(', ')}); say which with "datacenter:"` : 'vCenter has no datacenter', { expected: true });
      }
      datacenter = (dcs[0] as (typeof dcs)[number]).obj;
      path = text(dcs[0]?.props.get('name')) ?? datacenter.value;
    }
    const { objects } = await retrieveAll(this.session, sc.propertyCollector, filterSpec({ Datacenter: ['vmFolder'] }, objectSpec(datacenter, false)), this.o.pageSize, signal);
    const vmFolder = moRef(objects[0]?.props.get('vmFolder'));
    if (!vmFolder) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, `datacenter "${path}": vCenter did not report its VM folder`, { retryable: true });
    let cluster: MoRef | undefined;
    if (this.o.cluster) {
      cluster = await this.findByPath(sc.searchIndex, `${path}/host/${this.o.cluster}`, signal);
      if (cluster?.type !== 'ClusterComputeResource' && cluster?.type !== 'ComputeResource') {
        throw new VigilError(ErrorCodes.UNKNOWN_CLUSTER, `datacenter "${path}" has no cluster "${this.o.cluster}"`, { expected: true });
      }
    }
    this.scope = { datacenter, datacenterPath: path, vmFolder, ...(cluster ? { cluster } : {}) };
    return this.scope;
  }

  private async findByPath(searchIndex: MoRef, path: string, signal?: AbortSignal): Promise<MoRef | undefined> {
    const res = await this.session.call('FindByInventoryPath', searchIndex, el('inventoryPath', path), signal);
    return moRef(child(res.body, 'returnval'));
  }

  private refreshing?: Promise<void>;

  /**
   * Brings the cache up to date. Callers that overlap (a reconcile and the
   * executor's re-check) share one refresh: an update stream has one reader.
   */
  refresh(signal?: AbortSignal): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.refreshOnce(signal).finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async refreshOnce(signal?: AbortSignal): Promise<void> {
    await this.session.ensure(signal);
    await this.resolveScope(signal);
    const w = this.watch;
    if (w && w.generation === this.session.generation && this.o.clock.now() - this.lastFullAt < this.o.fullReadIntervalMs) {
      try {
        await this.poll(w, signal);
        this.counts.incremental += 1;
        await this.rereadTouched(signal);
        return;
      } catch (e) {
        // Updates may have been consumed by a call that failed: only a full read is trustworthy now.
        // vCenter answered (a fault): read now. It did not answer: the next snapshot reads in full.
        this.watch = undefined;
        if (!(e instanceof SoapFault)) throw e;
        this.o.logger.debug({ fault: e.faultType }, 'vSphere update stream lost; reading the cluster in full');
      }
    }
    await this.fullRead(signal);
    this.touched.clear();
    if (this.o.watch) {
      try {
        await this.startWatch(signal);
      } catch (e) {
        this.watch = undefined;
        this.o.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'cannot follow vSphere updates; the next snapshot reads the cluster in full');
      }
    }
  }

  /** Marks an object Vigil changed, so the next refresh re-reads it even if its update has not arrived yet. */
  touch(ref: MoRef): void {
    this.touched.set(`${ref.type}:${ref.value}`, ref);
  }

  /** Drops an object Vigil removed from the inventory (UnregisterVM). */
  forget(ref: MoRef): void {
    this.cache.forget(ref);
    this.touched.delete(`${ref.type}:${ref.value}`);
  }

  private spec(view: MoRef): string {
    const scope = this.scope as Scope;
    let objects = objectSpec(view, true, traversal('view', 'ContainerView', 'view'));
    // Datastores are not inside a cluster: reach them through the cluster's datastore list.
    if (scope.cluster) objects += objectSpec(scope.cluster, true, traversal('datastores', scope.cluster.type, 'datastore'));
    const cfm = this.customFields;
    if (cfm) objects += objectSpec(cfm, false);
    return filterSpec(PROPERTIES, objects);
  }

  private customFields?: MoRef;

  private async ensureView(signal?: AbortSignal): Promise<MoRef> {
    if (this.view && this.view.generation === this.session.generation) return this.view.ref;
    const sc = await this.session.serviceContent(signal);
    this.customFields = sc.customFieldsManager;
    const scope = this.scope as Scope;
    const container = scope.cluster ?? scope.datacenter;
    const types = ['HostSystem', 'VirtualMachine', 'Datastore'].map((t) => el('type', t)).join('');
    const res = await this.session.call('CreateContainerView', sc.viewManager, `${refEl('container', container)}${types}${el('recursive', true)}`, signal);
    const ref = moRef(child(res.body, 'returnval'));
    if (!ref) throw new VigilError(ErrorCodes.PROVIDER_UNAVAILABLE, 'CreateContainerView answered without a view', { retryable: true });
    this.view = { ref, generation: this.session.generation };
    return ref;
  }

  private async fullRead(signal?: AbortSignal): Promise<void> {
    const sc = await this.session.serviceContent(signal);
    const read = async () => {
      const view = await this.ensureView(signal);
      return retrieveAll(this.session, sc.propertyCollector, this.spec(view), this.o.pageSize, signal);
    };
    let result;
    try {
      result = await read();
    } catch (e) {
      if (!(e instanceof SoapFault) || e.faultType !== 'ManagedObjectNotFound') throw e;
      // The view lives in the session: it is gone when the session is. A call outside the
      // anonymous allow-list finds out whether the session expired (and logs in again if so).
      this.view = undefined;
      await this.session.call('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' }, '', signal);
      result = await read();
    }
    this.cache.replaceAll(result.objects);
    this.lastFullAt = this.o.clock.now();
    this.counts.full += 1;
  }

  private async startWatch(signal?: AbortSignal): Promise<void> {
    const sc = await this.session.serviceContent(signal);
    const view = await this.ensureView(signal);
    const generation = this.session.generation;
    // Each watcher needs a collector of its own: vcsim delivers updates of the shared one to a single session only.
    const res = await this.session.call('CreatePropertyCollector', sc.propertyCollector, '', signal);
    const collector = moRef(child(res.body, 'returnval'));
    if (!collector) throw new Error('CreatePropertyCollector answered without a collector');
    await this.session.call('CreateFilter', collector, `<spec>${this.spec(view)}</spec>${el('partialUpdates', false)}`, signal);
    const watch: Watch = { collector, version: '', generation };
    await this.poll(watch, signal);
    if (this.session.generation !== generation) throw new Error('the session changed while the update stream was set up');
    this.watch = watch;
  }

  private async poll(w: Watch, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const res = await this.session.call('WaitForUpdatesEx', w.collector, `${el('version', w.version)}<options>${el('maxWaitSeconds', 0)}</options>`, signal);
      if (this.session.generation !== w.generation) throw new SoapFault('WaitForUpdatesEx', 'NotAuthenticated', 'the session was renewed; its update stream is gone', undefined, 200);
      const set = parseUpdateSet(res);
      this.cache.apply(set.updates);
      if (set.version !== undefined) w.version = set.version;
      if (!set.truncated) return;
    }
  }

  private async rereadTouched(signal?: AbortSignal): Promise<void> {
    for (let attempt = 0; this.touched.size && attempt < 8; attempt++) {
      const refs = [...this.touched.values()];
      const sc = await this.session.serviceContent(signal);
      try {
        const { objects } = await retrieveAll(this.session, sc.propertyCollector, filterSpec(PROPERTIES, refs.map((r) => objectSpec(r, false)).join('')), this.o.pageSize, signal);
        for (const o of objects) this.cache.upsert(o);
        this.touched.clear();
      } catch (e) {
        if (!(e instanceof SoapFault) || e.faultType !== 'ManagedObjectNotFound') throw e;
        const gone = moRef(child(e.detail, 'obj'));
        if (!gone) {
          this.touched.clear();
          return;
        }
        this.forget(gone);
      }
    }
  }
}
