/**
 * STAND-IN, NOT HYPER-V. Serves a SimHyperV to the stand-in `pwsh`
 * processes over HTTP on 127.0.0.1 (an ephemeral port), so that every
 * process node-powershell starts, including the replacement of a timed-out
 * one or one started by a `vigil` CLI process, talks to the same estate.
 * Faults are queued here and played by the process on its next matching
 * call.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimHyperV } from './sim-hyperv.js';

/** What a stand-in process does with one call. */
export interface StandinReply {
  readonly stdout?: string;
  readonly stderr?: string;
  /** Exit the process mid-call with this code (markers are not echoed). */
  readonly exit?: number;
  /** Never answer this call. */
  readonly hang?: boolean;
}

export type FaultKind = 'stderr' | 'banner' | 'partial' | 'localized' | 'empty' | 'exit0' | 'exit' | 'hang';

export interface Fault {
  readonly kind: FaultKind;
  /** Only calls of this script (default: any script but session-open). */
  readonly script?: string;
  /** How many calls it hits (default 1). */
  times?: number;
  /** The text written (stderr, banner, localized message). */
  readonly text?: string;
  /** Apply the call to the estate before failing (the operation happened; only its answer is lost). */
  readonly applyFirst?: boolean;
}

export const DEFAULT_STDERR = [
  'Get-ClusterNode : The cluster service is not running.',
  'At line:1 char:1',
  '+ Get-ClusterNode',
  '+ ~~~~~~~~~~~~~~~',
  '    + CategoryInfo          : ConnectionError: (:) [Get-ClusterNode], ClusterCmdletException',
  '    + FullyQualifiedErrorId : ClusterRpcConnection,Microsoft.FailoverClusters.PowerShell.GetNodeCommand',
].join('\n');

export class StandinServer {
  readonly faults: Fault[] = [];
  /** Calls answered, per script name: the round trips the provider made. */
  readonly calls = new Map<string, number>();
  private server?: Server;

  constructor(readonly sim: SimHyperV) {}

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('the stand-in server is not listening');
    return `http://127.0.0.1:${addr.port}`;
  }

  inject(f: Fault): void {
    this.faults.push({ ...f, times: f.times ?? 1 });
  }

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        let reply: StandinReply;
        try {
          const call = JSON.parse(body) as { script: string; input: Record<string, unknown>; pid: number };
          reply = this.reply(call.script, call.input, call.pid);
        } catch (e) {
          reply = { stderr: `stand-in: ${(e as Error).message}` };
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  reply(script: string, input: Record<string, unknown>, pid: number): StandinReply {
    this.calls.set(script, (this.calls.get(script) ?? 0) + 1);
    const fault = this.faults.find((f) => (f.script ? f.script === script : script !== 'session-open') && (f.times ?? 0) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      const answer = fault.applyFirst || fault.kind === 'banner' || fault.kind === 'partial' ? this.sim.run(script, input, pid) : undefined;
      switch (fault.kind) {
        case 'stderr':
          return { stderr: fault.text ?? DEFAULT_STDERR };
        case 'banner':
          return { stdout: `${fault.text ?? 'WARNING: The names of some imported commands from the module \'FailoverClusters\' include unapproved verbs.'}\n${answer?.stdout ?? ''}` };
        case 'partial':
          return { stdout: (answer?.stdout ?? '').slice(0, Math.max(1, Math.floor((answer?.stdout ?? '').length / 2))) };
        case 'localized':
          return { stdout: fault.text ?? 'Le service de cluster n\u2019est pas d\u00e9marr\u00e9 sur ce n\u0153ud.' };
        case 'empty':
          return { stdout: '' };
        case 'exit0':
          return { exit: 0 };
        case 'exit':
          return { exit: 1, stderr: fault.text ?? 'pwsh: fatal error: out of memory' };
        case 'hang':
          return { hang: true };
      }
    }
    return this.sim.run(script, input, pid);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
