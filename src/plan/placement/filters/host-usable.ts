/** Only healthy hosts that the manager reports connected receive VMs. */
import { rejection, type PlacementFilter } from '../types.js';

export const hostUsable: PlacementFilter = {
  name: 'host-usable',
  prepare: () => (load) => {
    if (load.health === 'healthy' && load.host.state === 'connected') return undefined;
    if (load.host.state === 'maintenance' || load.health === 'maintenance') return rejection('is in maintenance', 'are in maintenance');
    if (load.health !== 'healthy') return rejection(`is ${load.health}`, `are ${load.health}`);
    return rejection(`is ${load.host.state}`, `are ${load.host.state}`);
  },
};
