/**
 * The default answer to "which Vigil cluster is this about?", from what
 * the controller last saw: each cluster's name, its hosts, and optionally
 * the platform's own name for it (vCenter's cluster, `cluster:` in a
 * vsphere or hyperv entry) and the sender's identity (a vCenter URL).
 *
 * Host names match exactly, then ignoring case, then a short name against
 * a full one (`esx-01` = `esx-01.lab.local`, never `esx-01.a` = `esx-01.b`)
 * when that is unambiguous within a cluster. A host known to several clusters hints them all: a reconcile is
 * harmless, a missed one is not. A named cluster whose host is unknown is
 * still returned, without a host, so it looks at itself.
 */
import type { HintTarget, ResolveQuery } from './types.js';

export interface ClusterView {
  readonly name: string;
  readonly hosts: readonly string[];
  /** The platform's own name for this cluster, e.g. vCenter's ClusterComputeResource name. */
  readonly platformCluster?: string;
  /** Sender identities that belong to this cluster, e.g. `https://vc01.example/sdk` (matched by host name of the URL). */
  readonly origins?: readonly string[];
}

export interface ResolverOptions {
  /** Cache the cluster list this long (ms), so a flood of hooks does not rebuild it per request. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export function resolverFromInventory(list: () => Iterable<ClusterView>, options: ResolverOptions = {}): (q: ResolveQuery) => HintTarget[] {
  const now = options.now ?? Date.now;
  let cached: ClusterView[] | undefined;
  let cachedAt = 0;
  const views = (): ClusterView[] => {
    const t = now();
    if (!cached || !options.cacheMs || t - cachedAt >= options.cacheMs) {
      cached = [...list()];
      cachedAt = t;
    }
    return cached;
  };

  return (q) => {
    let clusters = views();
    if (q.cluster !== undefined) {
      const named = clusters.find((c) => c.name === q.cluster);
      if (!named) return [];
      clusters = [named];
    } else if (!q.host) {
      const byPlatform = q.platformCluster ? clusters.filter((c) => c.platformCluster !== undefined && sameName(c.platformCluster, q.platformCluster as string)) : [];
      return byPlatform.map((c) => ({ cluster: c.name }));
    } else if (q.origin) {
      // A sender tied to some clusters (one vCenter) only speaks for those.
      const host = originHost(q.origin);
      const tied = host ? clusters.filter((c) => c.origins?.some((o) => originHost(o) === host)) : [];
      if (tied.length) clusters = tied;
    }
    const out: HintTarget[] = [];
    for (const c of clusters) {
      const host = q.host ? matchHost(c.hosts, q.host) : undefined;
      if (host) out.push({ cluster: c.name, host });
      else if (q.cluster !== undefined) out.push({ cluster: c.name });
    }
    if (out.length === 0 && q.host && q.platformCluster) {
      // An unknown host in a known platform cluster (just added?): let that cluster look.
      for (const c of clusters) if (c.platformCluster && sameName(c.platformCluster, q.platformCluster)) out.push({ cluster: c.name });
    }
    return out;
  };
}

export function matchHost(hosts: readonly string[], wanted: string): string | undefined {
  const exact = hosts.find((h) => h === wanted);
  if (exact) return exact;
  const lower = wanted.toLowerCase();
  const folded = hosts.filter((h) => h.toLowerCase() === lower);
  if (folded.length === 1) return folded[0];
  // `esx-01` and `esx-01.corp` are one host; `esx-01.corp` and `esx-01.dr` are two.
  const short = firstLabel(lower);
  const byLabel = hosts.filter((h) => {
    const l = h.toLowerCase();
    return firstLabel(l) === short && (l === short || lower === short);
  });
  return byLabel.length === 1 ? byLabel[0] : undefined;
}

function firstLabel(name: string): string {
  // An IP address has no short form.
  return /^\d+\.\d+\.\d+\.\d+$/.test(name) ? name : (name.split('.')[0] ?? name);
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}
