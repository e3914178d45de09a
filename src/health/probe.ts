/**
 * The controller's own view of a host, independent of the hypervisor
 * manager: the provider's probe where it has one (the lab), else a TCP
 * connect to the host's management address. Hosts with neither are not
 * probed, and detection then rests on the manager alone (documented as the
 * weaker case).
 */
import { connect } from 'node:net';
import pLimit from 'p-limit';
import type { Host } from '../model/inventory.js';
import type { Provider } from '../provider.js';

export interface ProbeOptions {
  /** TCP port of the management interface, for hosts whose provider reports an address. */
  readonly port?: number;
  readonly timeoutMs: number;
  readonly concurrency?: number;
}

export class HostProber {
  private readonly limit;

  constructor(
    private readonly provider: Provider,
    private readonly o: ProbeOptions,
  ) {
    this.limit = pLimit(o.concurrency ?? 32);
  }

  /** True: the host answered; false: it did not; absent: it could not be probed. */
  async probe(hosts: readonly Host[]): Promise<Map<string, boolean>> {
    const results = new Map<string, boolean>();
    await Promise.all(
      hosts.map((h) =>
        this.limit(async () => {
          const r = await this.one(h);
          if (r !== undefined) results.set(h.name, r);
        }),
      ),
    );
    return results;
  }

  private async one(h: Host): Promise<boolean | undefined> {
    if (this.provider.probe) {
      try {
        return await this.provider.probe({ id: h.id, name: h.name });
      } catch {
        // A probe that cannot run says nothing either way.
        return undefined;
      }
    }
    if (h.address && this.o.port) return tcpProbe(h.address, this.o.port, this.o.timeoutMs);
    return undefined;
  }
}

/** Resolves true when a TCP connection to address:port opens within the timeout. */
export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
