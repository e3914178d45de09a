/** A VM restarting from its replica can only start on the host that holds the replica. */
import { rejection, type PlacementFilter } from '../types.js';

export const replicaHost: PlacementFilter = {
  name: 'replica-host',
  prepare(req) {
    const replica = req.replica;
    if (!replica) return undefined;
    const refused = rejection(`does not hold the replica of ${req.vm.name} (on ${replica.host})`, `do not hold the replica of ${req.vm.name} (on ${replica.host})`);
    return (load) => (load.host.name === replica.host ? undefined : refused);
  },
};
