/**
 * Prefers the host that keeps the most headroom after placement, measured
 * as the larger of its memory and CPU use relative to capacity. Spreading
 * restarts keeps every host able to take the next failure.
 */
import type { PlacementScorer } from '../types.js';

export const balance: PlacementScorer = {
  name: 'balance',
  prepare(req) {
    const { memoryGiB, cpu } = req.vm;
    return (load) => {
      const mem = load.memoryCapacityGiB > 0 ? (load.usedMemoryGiB + memoryGiB) / load.memoryCapacityGiB : 1;
      const c = load.cpuCapacity > 0 ? (load.usedCpu + cpu) / load.cpuCapacity : 1;
      return Math.max(0, 100 * (1 - Math.max(mem, c)));
    };
  },
};
