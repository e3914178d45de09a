/**
 * Packing scorers, used only when spreading left VMs without a host: on a
 * tight cluster, best fit (the host left fullest) and first fit (hosts in
 * name order) place VMs that spreading fragments away.
 */
import type { PlacementScorer } from '../types.js';

export const bestFit: PlacementScorer = {
  name: 'best-fit',
  prepare(req) {
    const need = req.vm.memoryGiB;
    return (load) => (load.memoryCapacityGiB > 0 ? (100 * (load.usedMemoryGiB + need)) / load.memoryCapacityGiB : 0);
  },
};

/** Hosts arrive in name order, so the first eligible one wins when every host scores alike. */
export const firstFit: PlacementScorer = {
  name: 'first-fit',
  prepare: () => undefined,
};
