/** `placement.affinityGroup`: prefer the host that already runs the most of the VM's group (soft, unlike anti-affinity). */
import type { PlacementScorer } from '../types.js';

export const affinity: PlacementScorer = {
  name: 'affinity',
  prepare(req) {
    const group = req.rules.affinityGroup;
    if (!group) return undefined;
    return (load) => Math.min(100, 25 * (load.affinity.get(group) ?? 0));
  },
};
