/**
 * How the sim provider reaches a lab: directly in this process, or over
 * HTTP to `vigil lab serve`. Both apply the lab's injected API faults, so a
 * test sees the same errors and latency either way.
 */
import axios, { type AxiosInstance } from 'axios';
import type { Clock } from '../../src/clock/clock.js';
import type { ClusterSnapshot } from '../../src/model/inventory.js';
import { LabError, type Lab, type LabTaskInfo } from './lab.js';

export interface LabApi {
  snapshot(cluster: string): Promise<ClusterSnapshot>;
  migrate(vm: string, to: string, live: boolean): Promise<LabTaskInfo>;
  restart(vm: string, on: string): Promise<LabTaskInfo>;
  powerOff(vm: string): Promise<LabTaskInfo>;
  setMaintenance(host: string, on: boolean): Promise<LabTaskInfo>;
  task(id: string): Promise<LabTaskInfo>;
  probe(host: string): Promise<boolean>;
  close(): Promise<void>;
}

export class InProcessLabApi implements LabApi {
  constructor(
    readonly lab: Lab,
    private readonly clock: Clock,
  ) {}

  private async call<T>(fn: () => T): Promise<T> {
    const latency = this.lab.apiGate();
    if (latency > 0) await this.clock.sleep(latency);
    return fn();
  }

  snapshot(cluster: string): Promise<ClusterSnapshot> {
    return this.call(() => this.lab.snapshot(cluster));
  }
  migrate(vm: string, to: string, live: boolean): Promise<LabTaskInfo> {
    return this.call(() => this.lab.migrate(vm, to, live));
  }
  restart(vm: string, on: string): Promise<LabTaskInfo> {
    return this.call(() => this.lab.restart(vm, on));
  }
  powerOff(vm: string): Promise<LabTaskInfo> {
    return this.call(() => this.lab.powerOff(vm));
  }
  setMaintenance(host: string, on: boolean): Promise<LabTaskInfo> {
    return this.call(() => this.lab.setMaintenance(host, on));
  }
  task(id: string): Promise<LabTaskInfo> {
    return this.call(() => this.lab.task(id));
  }
  probe(host: string): Promise<boolean> {
    // The probe is the controller's own out-of-band check, not a manager API call: no injected faults.
    return Promise.resolve(this.lab.probe(host));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class HttpLabApi implements LabApi {
  private readonly http: AxiosInstance;

  constructor(baseUrl: string, timeoutMs = 10_000) {
    this.http = axios.create({ baseURL: baseUrl.replace(/\/$/, ''), timeout: timeoutMs, validateStatus: () => true });
  }

  private async request<T>(method: 'get' | 'post', path: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await this.http.request({ method, url: path, data: body });
    } catch (e) {
      throw new LabError(0, 'unreachable', `lab at ${this.http.defaults.baseURL} is unreachable: ${(e as Error).message}`);
    }
    if (res.status >= 200 && res.status < 300) return res.data as T;
    const err = (res.data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new LabError(res.status, err?.code ?? 'http', err?.message ?? `lab answered HTTP ${res.status}`);
  }

  snapshot(cluster: string): Promise<ClusterSnapshot> {
    return this.request('get', `/sim/v1/clusters/${encodeURIComponent(cluster)}/snapshot`);
  }
  migrate(vm: string, to: string, live: boolean): Promise<LabTaskInfo> {
    return this.request('post', `/sim/v1/vms/${encodeURIComponent(vm)}/migrate`, { to, live });
  }
  restart(vm: string, on: string): Promise<LabTaskInfo> {
    return this.request('post', `/sim/v1/vms/${encodeURIComponent(vm)}/restart`, { on });
  }
  powerOff(vm: string): Promise<LabTaskInfo> {
    return this.request('post', `/sim/v1/vms/${encodeURIComponent(vm)}/power-off`, {});
  }
  setMaintenance(host: string, on: boolean): Promise<LabTaskInfo> {
    return this.request('post', `/sim/v1/hosts/${encodeURIComponent(host)}/maintenance`, { on });
  }
  task(id: string): Promise<LabTaskInfo> {
    return this.request('get', `/sim/v1/tasks/${encodeURIComponent(id)}`);
  }
  async probe(host: string): Promise<boolean> {
    const r = await this.request<{ reachable: boolean }>('get', `/sim/v1/hosts/${encodeURIComponent(host)}/probe`);
    return r.reachable;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
