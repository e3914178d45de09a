/** `vigil lab ...`: serve the simulated lab, and poke a served lab from another terminal. */
import type { Command } from 'commander';
import axios from 'axios';
import { resolve } from 'node:path';
import { ScaledClock, SystemClock } from '../../clock/clock.js';
import { parseListen } from '../../config/listen.js';
import { loadInventoryFile } from '../../inventory/load.js';
import { builtinPath } from '../../paths.js';
import { Lab } from '../../../providers/sim/lab.js';
import { buildLabServer, DEFAULT_LAB_REDFISH } from '../../../providers/sim/lab-server.js';
import { BUILTIN_INVENTORY } from '../../../providers/sim/index.js';
import { createLogger } from '../../log.js';
import { globals, printJson, println, toCliExit } from '../common.js';
import { CliExit, Exit, usageError } from '../exit.js';

const DEFAULT_URL = 'http://127.0.0.1:9090';

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('the built-in simulated lab: serve it, inject faults, read its log');

  lab
    .command('serve')
    .description('run the lab as its own process (controllers use it with provider: sim, url: ...)')
    .option('--inventory <file>', 'inventory file (default: the built-in lab)')
    .option('--listen <addr>', 'address to listen on', '127.0.0.1:9090')
    .option('--speed <factor>', 'lab time runs this many times faster than real time', '1')
    .action(async (opts: { inventory?: string; listen: string; speed: string }, cmd: Command) => {
      const g = globals(cmd);
      const listen = parseListen(opts.listen);
      if (!listen) throw usageError(`--listen "${opts.listen}" is not host:port`, 'lab serve');
      const speed = Number(opts.speed);
      if (!(speed > 0)) throw usageError(`--speed must be a positive number`, 'lab serve');
      const file = opts.inventory ? resolve(opts.inventory) : builtinPath(BUILTIN_INVENTORY);
      let inventory;
      try {
        inventory = loadInventoryFile(file, opts.inventory ?? BUILTIN_INVENTORY).inventory;
      } catch (e) {
        throw toCliExit(e);
      }
      const clock = speed === 1 ? new SystemClock() : new ScaledClock(speed);
      const app = buildLabServer(new Lab(inventory, clock), clock);
      const logger = createLogger({ fd: g.json ? 2 : 1, level: g.logLevel ?? 'info' });
      try {
        await app.listen(listen);
      } catch (e) {
        throw new CliExit(Exit.FAILURE, `error: cannot listen on ${opts.listen}: ${(e as Error).message}`);
      }
      const url = `http://${listen.host}:${listen.port}`;
      logger.info(
        { url, inventory: file, redfishUser: DEFAULT_LAB_REDFISH.username },
        `lab serving ${url} (${inventory.clusters.length} cluster(s)); try: node bin/vigil.js lab fail-host esx-02 --url ${url}`,
      );
      await new Promise<void>((done) => {
        const stop = (): void => void app.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  const post = (name: string, description: string, path: (target: string, opts: { host?: string }) => string, withHost = false): void => {
    const c = lab
      .command(`${name} <name>`)
      .description(description)
      .option('--url <url>', 'the lab', process.env.VIGIL_LAB_URL ?? DEFAULT_URL);
    if (withHost) c.option('--host <host>', 'only on this host (default: every host)');
    c.action(async (target: string, opts: { url: string; host?: string }, cmd: Command) => {
      const data = await labRequest('post', opts.url, path(target, opts));
      if (globals(cmd).json) printJson(data);
      else println(`ok: ${name} ${target}${opts.host ? ` on ${opts.host}` : ''}`);
    });
  };
  post('fail-host', 'the host dies: its VMs stop, the manager reports it not responding', (n) => `/lab/hosts/${encodeURIComponent(n)}/fail`);
  post('recover-host', 'the host comes back (its VMs stay off unless restarted)', (n) => `/lab/hosts/${encodeURIComponent(n)}/recover`);
  post('isolate-host', 'the controller can no longer probe the host; the manager still sees it', (n) => `/lab/hosts/${encodeURIComponent(n)}/isolate`);
  post('partition-host', 'the manager and the controller lose the host, but it keeps running its VMs', (n) => `/lab/hosts/${encodeURIComponent(n)}/partition`);
  post('fail-migration', "the VM's next live migration fails half-way (it keeps running where it was)", (n) => `/lab/vms/${encodeURIComponent(n)}/fail-migration`);
  post('fail-datastore', 'a host (or every host) loses the datastore', (n, o) => `/lab/datastores/${encodeURIComponent(n)}/fail${o.host ? `?host=${encodeURIComponent(o.host)}` : ''}`, true);
  post('recover-datastore', 'the datastore is reachable again', (n, o) => `/lab/datastores/${encodeURIComponent(n)}/recover${o.host ? `?host=${encodeURIComponent(o.host)}` : ''}`, true);
  post('degrade-datastore', 'a host reaches the datastore only degraded (needs --host)', (n, o) => `/lab/datastores/${encodeURIComponent(n)}/degrade?host=${encodeURIComponent(o.host ?? '')}`, true);
  post('undegrade-datastore', 'the host reaches the datastore normally again (needs --host)', (n, o) => `/lab/datastores/${encodeURIComponent(n)}/undegrade?host=${encodeURIComponent(o.host ?? '')}`, true);
  post('suspend-replication', "a VM's replication stops: its replica ages", (n) => `/lab/vms/${encodeURIComponent(n)}/suspend-replication`);
  post('resume-replication', "a VM's replication runs again", (n) => `/lab/vms/${encodeURIComponent(n)}/resume-replication`);
  lab
    .command('fill-datastore <name>')
    .description('sets the free space of a datastore now, and/or a rate it falls at')
    .option('--url <url>', 'the lab', process.env.VIGIL_LAB_URL ?? DEFAULT_URL)
    .option('--free-gib <n>', 'free space now, in GiB')
    .option('--fill-gib-per-hour <n>', 'GiB filled per hour of lab time (0 stops it)')
    .action(async (target: string, opts: { url: string; freeGib?: string; fillGibPerHour?: string }, cmd: Command) => {
      const q = new URLSearchParams({ ...(opts.freeGib !== undefined ? { freeGiB: opts.freeGib } : {}), ...(opts.fillGibPerHour !== undefined ? { fillGiBPerHour: opts.fillGibPerHour } : {}) });
      const data = await labRequest('post', opts.url, `/lab/datastores/${encodeURIComponent(target)}/fill?${q.toString()}`);
      if (globals(cmd).json) printJson(data);
      else println(`ok: fill-datastore ${target}`);
    });

  lab
    .command('log')
    .description('every operation the lab carried out, in order (JSON lines)')
    .option('--url <url>', 'the lab', process.env.VIGIL_LAB_URL ?? DEFAULT_URL)
    .action(async (opts: { url: string }) => {
      const text = await labRequest('get', opts.url, '/lab/log');
      process.stdout.write(typeof text === 'string' ? text : `${JSON.stringify(text)}\n`);
    });

  lab
    .command('inventory')
    .description("the lab's current truth, in the inventory-file shape")
    .option('--url <url>', 'the lab', process.env.VIGIL_LAB_URL ?? DEFAULT_URL)
    .action(async (opts: { url: string }) => {
      printJson(await labRequest('get', opts.url, '/lab/inventory'));
    });
}

async function labRequest(method: 'get' | 'post', url: string, path: string): Promise<unknown> {
  let res;
  try {
    res = await axios.request({ method, url: `${url.replace(/\/$/, '')}${path}`, ...(method === 'post' ? { data: {} } : {}), timeout: 5000, validateStatus: () => true, responseType: path === '/lab/log' ? 'text' : 'json' });
  } catch (e) {
    throw new CliExit(Exit.FAILURE, `error: the lab at ${url} does not answer (${(e as Error).message}); is 'vigil run' or 'vigil lab serve' running?`);
  }
  if (res.status >= 400) {
    const err = (res.data as { error?: { message?: string } })?.error;
    throw new CliExit(Exit.FAILURE, `error: ${err?.message ?? `the lab answered HTTP ${res.status}`}`);
  }
  return res.data;
}
