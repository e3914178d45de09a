/**
 * bench/proxmox: a snapshot of a synthetic 32-node / 3,000-guest Proxmox VE
 * cluster served by a local HTTPS server. Figures: HTTP calls per snapshot
 * (target: 3 once storage content is known; the first snapshot also reads
 * storage content and replication), the time from the three answers' text
 * to the model (JSON parse, checks, mapping; median), and a whole snapshot
 * over HTTPS (median).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../src/clock/clock.js';
import { silentLogger } from '../src/log.js';
import { proxmoxConfigSchema } from '../providers/proxmox/config.js';
import { createProxmoxProvider } from '../providers/proxmox/index.js';
import { parseClusterStatus, parseHaStatus, parseResources } from '../providers/proxmox/raw.js';
import { LastKnown, mapSnapshot } from '../providers/proxmox/snapshot.js';
import { serve, syntheticCluster } from './proxmox/cluster.js';
import { peakRssMb, round, timeIt, type BenchLine } from './harness.js';

export async function run(): Promise<BenchLine[]> {
  const nodes = 32;
  const guests = 3_000;
  const cluster = syntheticCluster(nodes, guests);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-pve-'));
  const server = await serve(cluster, dir);
  const lines: BenchLine[] = [];
  try {
    const config = proxmoxConfigSchema.parse({ name: 'bench', provider: 'proxmox', url: server.url, tokenId: 'bench@pve!vigil', tokenSecret: '00000000-0000-4000-8000-000000000000', caFile: server.caFile, slowRefresh: '1h' });
    const provider = await createProxmoxProvider(config, { clock: new SystemClock(), logger: silentLogger(), baseDir: dir });
    server.requests = 0;
    const first = await provider.snapshot();
    const firstCalls = server.requests;
    server.requests = 0;
    await provider.snapshot();
    const steadyCalls = server.requests;

    const body = (p: string) => cluster.bodies.get(`/api2/json${p}`) as string;
    const texts = [body('/cluster/resources'), body('/cluster/status'), body('/cluster/ha/status/current')] as const;
    const raw0 = (t: string) => (JSON.parse(t) as { data: unknown }).data;
    const guestDatastores = new Map(first.vms.map((v) => [Number(v.id), v.datastores]));
    let mapped = 0;
    const parse = await timeIt(() => {
      const raw = { resources: parseResources(raw0(texts[0])), status: parseClusterStatus(raw0(texts[1])), ha: parseHaStatus(raw0(texts[2])), nodeStorage: new Map(), guestDatastores, replication: [] };
      mapped = mapSnapshot('bench', 0, raw, new LastKnown()).vms.length;
    }, 50);
    lines.push({ name: 'proxmox-parse-to-model', nodes, guests, vms_mapped: mapped, api_calls: steadyCalls, median_ms: round(parse.median, 2), max_ms: round(Math.max(...parse.samples), 2), runs: parse.samples.length });

    server.requests = 0;
    const snap = await timeIt(() => provider.snapshot(), 15);
    lines.push({
      name: 'proxmox-snapshot-https',
      nodes,
      guests,
      api_calls: round(server.requests / (snap.samples.length + 2), 2),
      first_snapshot_api_calls: firstCalls,
      median_ms: round(snap.median, 1),
      max_ms: round(Math.max(...snap.samples), 1),
      rss_mb: peakRssMb(),
      runs: snap.samples.length,
    });
    await provider.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
