/**
 * `npm run bench [-- --json] [-- name...]`: runs every benchmark under
 * bench/ (or the ones named), each in its own process so that its peak RSS
 * is its own, and prints a table or JSON lines.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, machine, type BenchLine } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const NOT_BENCHMARKS = new Set(['run.js', 'harness.js', 'lab-fleet.js', 'one.js']);

const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => !a.startsWith('--'));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !NOT_BENCHMARKS.has(f))
  .map((f) => f.replace(/\.js$/, ''))
  .filter((n) => !wanted.length || wanted.includes(n))
  .sort();

const m = machine();
if (!json) process.stdout.write(`machine: ${Object.entries(m).map(([k, v]) => `${k}=${v}`).join(', ')}\n\n`);
let failed = false;
for (const name of names) {
  const r = spawnSync(process.execPath, [join(here, 'one.js'), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  if (r.status !== 0) {
    failed = true;
    process.stderr.write(`bench ${name} failed (exit ${r.status})\n`);
    continue;
  }
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => ({ ...(JSON.parse(l) as BenchLine), ...(json ? { machine: `${m.cpu} x${m.cores}` } : {}) }));
  emit(lines, json);
  if (!json) process.stdout.write('\n');
}
process.exitCode = failed ? 1 : 0;
