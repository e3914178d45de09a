/**
 * bench/webhooks: 10 s of webhooks at 1,000 requests per second on
 * loopback, from this process (autocannon, open-loop at a fixed overall
 * rate, at most 10,000 requests and 30 s), against a second process that
 * runs the service's HTTP app with the webhook receivers and a real
 * controller on the built-in lab behind them (bench/webhooks/server.ts).
 *
 * Two runs: with the default limits (100/s sustained, burst 500 per source
 * address: most of a 1,000/s flood from one address is refused with 429),
 * and with the rate limit lifted, so every request goes the whole way.
 *
 * Figures: accepted (202), rejected_429, errors (any other status, socket
 * error or timeout), median and p99 latency over every answer, p99 of the
 * 202s, the server's peak RSS and RSS growth across the run, hints handed
 * to the controller and the reconciles they turned into (debounced).
 * Targets: errors 0, p99 under 50 ms, RSS growth under 50 MB.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median, round, type BenchLine } from './harness.js';
import { requestMix } from './webhooks/load.js';
import type { Measurement } from './webhooks/server.js';

const RATE = 1_000;
const SECONDS = 10;
const POLL_INTERVAL_S = 5;

export async function run(): Promise<BenchLine[]> {
  return [await one('webhooks', {}), await one('webhooks-unthrottled', { ratePerSecond: 1_000_000, rateBurst: 1_000_000 })];
}

async function one(name: string, limits: Record<string, number>): Promise<BenchLine> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'webhooks', 'server.js'), [JSON.stringify(limits)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await ready(child);
    const url = `http://127.0.0.1:${port}`;
    // Warm up (JIT, lazy init) at a fifth of the rate; not counted.
    await load(url, 200, 200, () => undefined);
    if (name === 'webhooks') await new Promise((r) => setTimeout(r, 6_000)); // let the warm-up's tokens refill, so both runs start from a full bucket
    const before = await measure(child);
    const latencies: number[] = [];
    const accepted: number[] = [];
    const statuses = new Map<number, number>();
    const result = await load(url, RATE, RATE * SECONDS, (status, ms) => {
      latencies.push(ms);
      if (status === 202) accepted.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    const after = await measure(child);
    const other = [...statuses].filter(([s]) => s !== 202 && s !== 429).reduce((n, [, c]) => n + c, 0);
    const seconds = result.duration;
    return {
      name,
      median_ms: round(median(latencies), 2),
      p99_ms: round(percentile(latencies, 0.99), 2),
      p99_accepted_ms: round(percentile(accepted, 0.99), 2),
      max_ms: round(Math.max(...latencies), 1),
      offered_rps: RATE,
      achieved_rps: Math.round(result.requests / seconds),
      seconds: round(seconds, 1),
      requests: result.requests,
      accepted: statuses.get(202) ?? 0,
      rejected_429: statuses.get(429) ?? 0,
      errors: other + result.errors + result.timeouts,
      rss_before_mb: round(before.rssMb, 1),
      rss_after_mb: round(after.rssMb, 1),
      rss_growth_mb: round(after.rssMb - before.rssMb, 1),
      peak_rss_mb: round(after.peakRssMb, 1),
      heap_growth_mb: round(after.heapUsedMb - before.heapUsedMb, 1),
      duplicates: after.stats.duplicates - before.stats.duplicates,
      ignored: sum(after.stats.ignored) - sum(before.stats.ignored),
      unresolved: after.stats.unresolved - before.stats.unresolved,
      hints: after.hintsDelivered - before.hintsDelivered,
      coalesced: after.stats.coalesced - before.stats.coalesced,
      reconciles: after.polls - before.polls,
      periodic_polls_expected: Math.floor(seconds / POLL_INTERVAL_S),
      server_cpu_ms_per_request: round(after.cpuMs / Math.max(1, result.requests), 3),
      server_loop_utilization: round(after.eventLoopUtilization, 2),
      server_loop_delay_p99_ms: round(after.loopDelayP99Ms, 1),
      server_loop_delay_max_ms: round(after.loopDelayMaxMs, 1),
      machine_load_1m: round(loadavg()[0] ?? 0, 1),
    };
  } finally {
    child.send('exit');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
}

/** Open-loop load at `rate` requests per second overall, `amount` requests at most, 30 s at most. */
function load(url: string, rate: number, amount: number, onResponse: (status: number, ms: number) => void): Promise<LoadResult> {
  const next = requestMix();
  let i = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: 50,
        overallRate: rate,
        amount,
        timeout: 10,
        requests: [
          {
            setupRequest: (req) => {
              const r = next(i++);
              return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body };
            },
          },
        ],
      },
      (err: unknown, result: autocannon.Result) => {
        clearTimeout(guard);
        if (err) reject(err instanceof Error ? err : new Error('autocannon failed'));
        else resolve({ requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, duration: result.duration });
      },
    );
    // autocannon 9 emits (client, statusCode, bytes, responseTime); the bundled types predate the first argument.
    (instance as unknown as NodeJS.EventEmitter).on('response', (...args: unknown[]) => {
      const [status, , ms] = args.slice(-3) as [number, number, number];
      onResponse(status, ms);
    });
    const guard = setTimeout(() => instance.stop(), 30_000);
  });
}

function ready(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('bench server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    child.on('message', (m: unknown) => {
      const msg = m as { type?: string; port?: number };
      if (msg.type === 'ready' && msg.port) {
        clearTimeout(t);
        resolve(msg.port);
      }
    });
  });
}

function measure(child: ChildProcess): Promise<Measurement> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if ((m as { type?: string }).type !== 'measurement') return;
      child.off('message', on);
      resolve(m as Measurement);
    };
    child.on('message', on);
    child.send('measure');
  });
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] as number;
}

function sum(o: Record<string, number>): number {
  return Object.values(o).reduce((a, b) => a + b, 0);
}
