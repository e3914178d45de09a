/**
 * A VM can only run where all of its disks are reachable, and is never
 * moved onto a host that reaches one of them only degraded (a CSV in
 * redirected access, a storage inactive on that node). Disks that come
 * from a replica are the replica-host filter's business.
 */
import { rejection, type PlacementFilter } from '../types.js';

export const datastoresReachable: PlacementFilter = {
  name: 'datastores-reachable',
  prepare(req, ctx) {
    const replicated = req.replica?.datastores;
    const datastores = replicated ? req.vm.datastores.filter((ds) => !replicated.includes(ds)) : req.vm.datastores;
    if (datastores.length === 0) return undefined;
    const usable = ctx.index.usableByOrdinal(datastores);
    return (load) => {
      if (usable[load.ordinal] === 1) return undefined;
      const missing = datastores.find((ds) => !ctx.index.reaches(load.host.name, ds));
      if (missing !== undefined) return rejection(`cannot reach datastore ${missing}`, `cannot reach datastore ${missing}`);
      const degraded = datastores.find((ds) => ctx.index.degradedOn(load.host.name, ds)) as string;
      return rejection(`reaches datastore ${degraded} only degraded`, `reach datastore ${degraded} only degraded`);
    };
  },
};
