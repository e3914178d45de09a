/** `placement.preferHostLabels`: the share of preferred labels a host carries. */
import type { PlacementScorer } from '../types.js';

export const preferredLabels: PlacementScorer = {
  name: 'preferred-labels',
  prepare(req) {
    const want = Object.entries(req.rules.preferHostLabels);
    if (want.length === 0) return undefined;
    return (load) => (100 * want.filter(([k, v]) => load.host.labels[k] === v).length) / want.length;
  },
};
