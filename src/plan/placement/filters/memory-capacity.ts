/** Memory is never committed beyond the cluster's memory overcommit ratio. */
import { formatGiB } from '../../../model/units.js';
import { rejection, type PlacementFilter } from '../types.js';

export const memoryCapacity: PlacementFilter = {
  name: 'memory-capacity',
  prepare(req) {
    const need = req.vm.memoryGiB;
    const refused = rejection(`lacks ${formatGiB(need)} free memory`, `lack ${formatGiB(need)} free memory`);
    return (load) => (load.usedMemoryGiB + need <= load.memoryCapacityGiB + 1e-9 ? undefined : refused);
  },
};
