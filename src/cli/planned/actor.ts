/**
 * Who carries out planned work for the CLI: there is one actor per state
 * directory. When the controller service of this config answers, it is
 * handed the work (its journal records it, and it does not undo it);
 * otherwise the CLI acts itself, holding the same lock the service takes,
 * so the two never act at once.
 */
import axios from 'axios';
import type { VigilConfig } from '../../config/load.js';
import type { PlanEvent, PlanResult } from '../../execute/plan-runner.js';
import type { PlannedWork } from '../../plan/planned-work.js';
import type { PlanRequest } from '../../plan/planned-request.js';
import { serviceUrl } from '../service-client.js';
import type { GlobalOptions } from '../common.js';
import { DirectActor } from './direct-actor.js';
import { ServiceActor } from './service-actor.js';

export interface RunHandle {
  /** No new action starts; running ones finish. */
  stop(): Promise<void>;
  readonly done: Promise<PlanResult>;
}

export interface PlannedActor {
  /** For people: "the controller at http://...", "this command (holding the lock on ...)". */
  readonly via: string;
  plan(req: PlanRequest): Promise<PlannedWork[]>;
  /**
   * Plans again and, when the plan is still the one agreed to, starts it.
   * Rejects (nothing moved) when the cluster changed so that it is not.
   */
  run(req: PlanRequest, agreed: PlannedWork, maxParallel: number, onEvent: (e: PlanEvent) => void): Promise<RunHandle>;
  close(): Promise<void>;
}

export async function connectActor(config: VigilConfig, g: GlobalOptions): Promise<PlannedActor> {
  if (await serviceAnswers(config)) return new ServiceActor(config);
  return DirectActor.open(config, g);
}

async function serviceAnswers(config: VigilConfig): Promise<boolean> {
  try {
    const res = await axios.get(`${serviceUrl(config)}/healthz`, { timeout: 1_500, validateStatus: () => true });
    return res.status === 200;
  } catch {
    return false;
  }
}
