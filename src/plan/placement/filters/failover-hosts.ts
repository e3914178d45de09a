/** Dedicated failover hosts (admission.failoverHosts) stay empty of planned placements; only restarts use them. */
import { rejection, type PlacementFilter } from '../types.js';

const refused = rejection('is a dedicated failover host', 'are dedicated failover hosts');

export const failoverHosts: PlacementFilter = {
  name: 'failover-hosts',
  prepare: (_req, ctx) => (ctx.purpose === 'planned' ? (load) => (load.failover ? refused : undefined) : undefined),
};
