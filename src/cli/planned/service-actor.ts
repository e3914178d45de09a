/** Planned work handed to the running controller service (src/service/plan-routes.ts), and followed until it ends. */
import axios, { type AxiosResponse } from 'axios';
import type { VigilConfig } from '../../config/load.js';
import type { PlanEvent, PlanResult } from '../../execute/plan-runner.js';
import type { PlannedWork } from '../../plan/planned-work.js';
import type { PlanRequest } from '../../plan/planned-request.js';
import type { PlanStatus } from '../../service/plan-service.js';
import { CliExit, Exit } from '../exit.js';
import { serviceUrl, token } from '../service-client.js';
import type { PlannedActor, RunHandle } from './actor.js';

const FOLLOW_EVERY_MS = 250;

export class ServiceActor implements PlannedActor {
  readonly via: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(config: VigilConfig) {
    this.base = serviceUrl(config);
    this.via = `the controller at ${this.base}`;
    const t = token(config);
    this.headers = t ? { authorization: `Bearer ${t}` } : {};
  }

  async plan(req: PlanRequest): Promise<PlannedWork[]> {
    const data = await this.call<{ plans: PlannedWork[] }>('post', '/api/v1/plans', { request: req, dryRun: true });
    return data.plans;
  }

  async run(req: PlanRequest, agreed: PlannedWork, maxParallel: number, onEvent: (e: PlanEvent) => void): Promise<RunHandle> {
    const { id } = await this.call<{ id: string }>('post', '/api/v1/plans', { request: { ...req, cluster: agreed.cluster }, expect: { phases: agreed.phases }, maxParallel });
    const path = `/api/v1/plans/${encodeURIComponent(id)}`;
    let seen = 0;
    let failures = 0;
    const done = (async (): Promise<PlanResult> => {
      for (;;) {
        let st: PlanStatus;
        try {
          st = await this.call<PlanStatus>('get', `${path}?since=${seen}`);
          failures = 0;
        } catch (e) {
          // The plan runs in the service whatever happens to this follower; a few missed looks are not fatal.
          if (++failures > 20) throw e;
          await sleep(FOLLOW_EVERY_MS * 4);
          continue;
        }
        for (const e of st.events) {
          seen = Math.max(seen, e.seq);
          onEvent(e);
        }
        if (st.result) return st.result;
        await sleep(FOLLOW_EVERY_MS);
      }
    })();
    return {
      stop: async () => {
        await this.call('post', `${path}/stop`, {});
      },
      done,
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async call<T>(method: 'get' | 'post', path: string, body?: unknown): Promise<T> {
    let res: AxiosResponse;
    try {
      res = await axios.request({ method, url: `${this.base}${path}`, data: body, timeout: 30_000, validateStatus: () => true, headers: this.headers });
    } catch (e) {
      throw new CliExit(Exit.FAILURE, `error: the controller at ${this.base} stopped answering (${(e as Error).message})`);
    }
    if (res.status >= 400) {
      const err = (res.data as { error?: { message?: string } } | undefined)?.error;
      if (res.status === 404 && !err?.message) throw new CliExit(Exit.FAILURE, `error: the controller at ${this.base} has no planned-work API (is it an older Vigil?)`);
      throw new CliExit(Exit.FAILURE, `error: ${err?.message ?? `the controller answered HTTP ${res.status}`}`);
    }
    return res.data as T;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
