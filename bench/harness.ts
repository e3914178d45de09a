/**
 * What every benchmark shares: timing with a median, the machine it ran
 * on, and output as a table or as JSON lines (`--json`), per interfaces.md.
 */
import { cpus, totalmem, type as osType, release } from 'node:os';
import { performance } from 'node:perf_hooks';

export interface BenchLine {
  readonly name: string;
  readonly median_ms: number;
  readonly [figure: string]: string | number | boolean;
}

export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return { cpu: cpu[0]?.model.trim() ?? 'unknown', cores: cpu.length, memory_gib: Math.round(totalmem() / 2 ** 30), os: `${osType()} ${release()}`, node: process.version };
}

/** Runs `fn` `warmup` times untimed, then `runs` times; returns the median and every sample in ms. */
export async function timeIt(fn: () => unknown, runs: number, warmup = 2): Promise<{ median: number; samples: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { median: median(samples), samples };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function emit(lines: readonly BenchLine[], json: boolean): void {
  if (json) {
    for (const l of lines) process.stdout.write(`${JSON.stringify(l)}\n`);
    return;
  }
  const keys = [...new Set(lines.flatMap((l) => Object.keys(l)))];
  const width = (k: string) => Math.max(k.length, ...lines.map((l) => String(l[k] ?? '').length));
  process.stdout.write(`${keys.map((k) => k.padEnd(width(k))).join('  ')}\n`);
  for (const l of lines) process.stdout.write(`${keys.map((k) => String(l[k] ?? '').padEnd(width(k))).join('  ')}\n`);
}

/** A seeded generator, so every run measures the same clusters. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
