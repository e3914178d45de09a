/** vCPUs stay within the host's logical CPUs times the CPU overcommit ratio. */
import { rejection, type PlacementFilter } from '../types.js';

export const cpuCapacity: PlacementFilter = {
  name: 'cpu-capacity',
  prepare(req) {
    const need = req.vm.cpu;
    const refused = rejection(`lacks ${need} free vCPUs`, `lack ${need} free vCPUs`);
    return (load) => (load.usedCpu + need <= load.cpuCapacity + 1e-9 ? undefined : refused);
  },
};
