/** A VM can only run where all of its disks are reachable. */
import { rejection, type PlacementFilter } from '../types.js';

export const datastoresReachable: PlacementFilter = {
  name: 'datastores-reachable',
  prepare(req, ctx) {
    const datastores = req.vm.datastores;
    if (datastores.length === 0) return undefined;
    const reachable = ctx.index.reachableByOrdinal(datastores);
    return (load) => {
      if (reachable[load.ordinal] === 1) return undefined;
      const missing = datastores.find((ds) => !ctx.index.reaches(load.host.name, ds)) as string;
      return rejection(`cannot reach datastore ${missing}`, `cannot reach datastore ${missing}`);
    };
  },
};
