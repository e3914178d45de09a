/** `placement.antiAffinityGroup`: VMs sharing a group never share a host. */
import { rejection, type PlacementFilter } from '../types.js';

export const antiAffinity: PlacementFilter = {
  name: 'anti-affinity',
  prepare(req) {
    const group = req.rules.antiAffinityGroup;
    if (!group) return undefined;
    const refused = rejection(`breaks anti-affinity group ${group}`, `break anti-affinity group ${group}`);
    return (load) => (load.groups.has(group) ? refused : undefined);
  },
};
