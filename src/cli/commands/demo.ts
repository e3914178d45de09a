/**
 * `vigil demo`: a scripted tour of the built-in lab in accelerated time: the
 * cluster as it is, a host failing, detection, restarts as they happen,
 * then where every VM went and how long it took. Ends by itself.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import { ScaledClock } from '../../clock/clock.js';
import { formatDuration } from '../../clock/duration.js';
import { loadConfig, BUILTIN_CONFIG } from '../../config/load.js';
import type { Decision } from '../../decisions.js';
import { silentLogger } from '../../log.js';
import { builtinPath } from '../../paths.js';
import { loadConfigPolicies } from '../../policy/resolve.js';
import { assembleController } from '../../service/assemble.js';
import { BUILTIN_INVENTORY, SimProvider, sharedLab } from '../../../providers/sim/index.js';
import { buildLabServer } from '../../../providers/sim/lab-server.js';
import { injectTransport } from '../../fence/inject-transport.js';
import { globals, println, toCliExit } from '../common.js';
import { renderStatus } from './status-table.js';
import { demoEvacuation } from './demo-evacuate.js';
import { CliExit, Exit, usageError } from '../exit.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('a scripted tour on the built-in lab: a host fails, its VMs restart elsewhere, a host is evacuated')
    .option('--speed <factor>', 'how much faster than real time the lab runs', '8')
    .option('--fail <host>', 'the host to fail', 'esx-02')
    .action(async (opts: { speed: string; fail: string }, cmd: Command) => {
      const speed = Number(opts.speed);
      if (!(speed > 0 && speed <= 1000)) throw usageError('--speed must be between 0 and 1000', 'demo');
      if (globals(cmd).json) throw usageError('the demo is for people; it has no --json output', 'demo');
      process.exitCode = await runDemo(speed, opts.fail);
    });
}

async function runDemo(speed: number, failHost: string): Promise<number> {
  const clock = new ScaledClock(speed);
  const config = await loadConfig(builtinPath(BUILTIN_CONFIG), true).catch((e: unknown) => {
    throw toCliExit(e);
  });
  // The demo's lab lives in this process only: no lab server, no shared ports. Its BMCs are reached in memory.
  const demoConfig = { ...config, clusters: config.clusters.map((c) => ({ ...c, config: { ...c.config, listen: undefined } })) };
  const labOf = sharedLab(builtinPath(BUILTIN_INVENTORY), clock).lab;
  const controller = await assembleController({
    config: demoConfig,
    clock,
    logger: silentLogger(),
    policies: loadConfigPolicies(config),
    purpose: 'oneshot',
    fenceTransport: injectTransport(buildLabServer(labOf, clock)),
  });
  const provider = [...controller.providers.values()][0];
  const lab = provider instanceof SimProvider ? provider.lab : undefined;
  if (!lab) throw new CliExit(Exit.FAILURE, 'error: the demo needs the built-in in-process lab');
  if (!lab.hasHost(failHost)) throw usageError(`no host "${failHost}" in the lab`, 'demo');

  const origin = clock.now();
  const t = (at: number): string => `+${((at - origin) / 1000).toFixed(1)}s`.padStart(7);
  println(`Vigil demo: the built-in lab at ${speed}x speed (all times are lab time).`);
  println('');
  controller.start();
  await clock.sleep(1_000);
  println(renderStatus(controller.status()));
  println('');

  const restarted = new Map<string, Decision>();
  const planned = new Map<string, Decision>();
  const unsubscribe = controller.decisions.subscribe((d) => {
    if (d.kind === 'action-started') return;
    if (d.kind === 'restart-planned') planned.set(d.subject, d);
    if (d.kind === 'action-succeeded') restarted.set(d.subject, d);
    const shown = d.kind === 'restart-planned' ? `${d.subject} -> ${String(d.data?.to)} (wave ${String(d.data?.wave)}, ${String(d.data?.priority)})` : `${d.subject}: ${d.message}`;
    println(`${t(d.at)}  ${d.kind.padEnd(16)} ${shown}`);
  });

  await clock.sleep(9_000);
  const failedAt = clock.now();
  println(`${t(failedAt)}  ${'lab'.padEnd(16)} host ${failHost} fails: its VMs stop; the manager will report it not responding, and Vigil's probe gets no answer`);
  lab.failHost(failHost);

  // Wait (in lab time) until every planned restart has finished, or give up after five minutes.
  const deadline = failedAt + 300_000;
  while (clock.now() < deadline) {
    await clock.sleep(1_000);
    const st = controller.status().clusters[0];
    const done = planned.size > 0 && st && st.inflight.length === 0 && [...planned.keys()].every((vm) => restarted.has(vm) || !st.inflight.some((a) => a.type === 'restart' && a.vm === vm));
    if (done) break;
  }
  unsubscribe();

  println('');
  println(`Where every VM of ${failHost} went:`);
  const table = new Table({ head: ['VM', 'PRIORITY', 'FROM', 'TO', 'RUNNING AFTER FAILURE'], style: { head: [], border: [] } });
  for (const [vm, p] of [...planned].sort((a, b) => (restarted.get(a[0])?.at ?? Infinity) - (restarted.get(b[0])?.at ?? Infinity))) {
    const done = restarted.get(vm);
    table.push([vm, String(p.data?.priority), String(p.data?.from), String(p.data?.to), done ? formatDuration(done.at - failedAt) : 'not restarted']);
  }
  println(table.toString());
  const unplaced = controller.status().clusters[0]?.unplaced ?? [];
  for (const u of unplaced) println(`not restarted: ${u.vm}: ${u.reason}`);
  const evacuated = await demoEvacuation({ controller, lab, clock, t, repaired: failHost });
  await controller.close();
  const log = lab.log();
  const errors = log.filter((e) => e.error);
  const violations = log.filter((e) => e.violation);
  println('');
  println(`Lab operation log: ${log.length} entries, ${errors.length} errors; ${violations.length ? 'A VM RAN TWICE:' : 'no VM ran twice.'}`);
  for (const e of errors) println(`  ${JSON.stringify(e)}`);
  println('Next: `npm start` runs the controller service on this lab; `node bin/vigil.js --help` lists every command.');
  return violations.length || errors.length || !evacuated ? Exit.FAILURE : Exit.OK;
}
