/** The inventory file format of interfaces.md, as a schema. */
import { z } from 'zod';
import { HOST_STATES } from '../model/inventory.js';
import { duration } from '../config/types.js';

const name = z.string().min(1, 'must not be empty');
const labels = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({});
/** Runtime fields the lab adds when it prints its truth; accepted and ignored on input. */
const runtime = z.record(z.string(), z.unknown()).optional();

export const inventoryHostSchema = z.strictObject({
  name,
  cpu: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  labels,
  state: z.enum(HOST_STATES as [string, ...string[]]).default('connected'),
  id: z.string().optional(),
  runtime,
});

export const inventoryDatastoreSchema = z.strictObject({
  name,
  capacityGiB: z.number().nonnegative().nullable().default(null),
  freeGiB: z.number().nonnegative().nullable().default(null),
  hosts: z.array(name).default([]),
  accessible: z.boolean().default(true),
  inaccessibleOn: z.array(name).default([]),
  /** Hosts that reach it only degraded (a CSV in redirected access, a storage inactive on a node). */
  degradedOn: z.array(name).default([]),
  type: z.string().min(1).optional(),
  id: z.string().optional(),
  runtime,
});

/** A VM's asynchronous replica (as Proxmox storage replication or Hyper-V Replica keep one). */
export const inventoryReplicationSchema = z.strictObject({
  /** The host that holds the replica. */
  target: name,
  /** How often it syncs (the lab syncs this long after the last sync, while the VM runs and both hosts are up). */
  every: duration(1_000).default(300_000),
  /** How long before the start the last sync completed (default: at the start). */
  lastSync: duration(0).default(0),
  /** The datastore on the target that holds the replica's disks; the VM uses it once it starts there. */
  datastore: name.optional(),
});

export const inventoryVmSchema = z.strictObject({
  name,
  host: name,
  cpu: z.number().int().positive(),
  memoryGiB: z.number().positive(),
  power: z.enum(['on', 'off', 'suspended', 'unknown']).default('on'),
  datastores: z.array(name).default([]),
  labels,
  managedBy: z.string().optional(),
  replication: inventoryReplicationSchema.optional(),
  id: z.string().optional(),
  runtime,
});

export const inventoryClusterSchema = z.strictObject({
  name,
  hosts: z.array(inventoryHostSchema).default([]),
  datastores: z.array(inventoryDatastoreSchema).default([]),
  vms: z.array(inventoryVmSchema).default([]),
});

export const inventorySchema = z.strictObject({
  clusters: z.array(inventoryClusterSchema).min(1, 'an inventory needs at least one cluster'),
});

export type InventoryFile = z.infer<typeof inventorySchema>;
export type InventoryCluster = z.infer<typeof inventoryClusterSchema>;
export type InventoryHost = z.infer<typeof inventoryHostSchema>;
export type InventoryVm = z.infer<typeof inventoryVmSchema>;
export type InventoryDatastore = z.infer<typeof inventoryDatastoreSchema>;
export type InventoryReplication = z.infer<typeof inventoryReplicationSchema>;
