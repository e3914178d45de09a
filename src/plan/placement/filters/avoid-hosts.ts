/** `placement.avoidHosts`: never on hosts whose names match. */
import { rejection, type PlacementFilter } from '../types.js';

export const avoidHosts: PlacementFilter = {
  name: 'avoid-hosts',
  prepare(req) {
    const globs = req.rules.avoidHosts;
    if (globs.length === 0) return undefined;
    const refused = rejection(`is avoided by policy ${req.rules.policy ?? ''}`.trim(), `are avoided by policy ${req.rules.policy ?? ''}`.trim());
    return (load) => (globs.some((g) => g.test(load.host.name)) ? refused : undefined);
  },
};
