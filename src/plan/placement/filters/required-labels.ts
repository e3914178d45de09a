/** `placement.requireHostLabels`: every label must match. */
import { rejection, type PlacementFilter } from '../types.js';

export const requiredLabels: PlacementFilter = {
  name: 'required-labels',
  prepare(req) {
    const need = Object.entries(req.rules.requireHostLabels);
    if (need.length === 0) return undefined;
    const refusals = need.map(([k, v]) => rejection(`lacks label ${k}=${v}`, `lack label ${k}=${v}`));
    return (load) => {
      for (let i = 0; i < need.length; i++) {
        const [k, v] = need[i] as [string, string];
        if (load.host.labels[k] !== v) return refusals[i];
      }
      return undefined;
    };
  },
};
