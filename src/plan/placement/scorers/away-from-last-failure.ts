/**
 * A VM whose restart failed on a host tries another host next, as
 * pve-ha-manager relocates after max_restart: the failure may be the host's.
 */
import type { PlacementScorer } from '../types.js';

export const awayFromLastFailure: PlacementScorer = {
  name: 'away-from-last-failure',
  prepare(req) {
    const failed = req.lastFailedOn;
    return failed ? (load) => (load.host.name === failed ? 0 : 100) : undefined;
  },
};
