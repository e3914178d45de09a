/** Restarts go to the dedicated failover hosts first: that is what they are kept empty for. */
import type { PlacementScorer } from '../types.js';

export const failoverFirst: PlacementScorer = {
  name: 'failover-first',
  prepare: (_req, ctx) => (ctx.purpose === 'restart' && ctx.hasFailoverHosts ? (load) => (load.failover ? 100 : 0) : undefined),
};
