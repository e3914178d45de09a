/**
 * A real IPMI-over-LAN peer for the IPMI agent's tests: OpenIPMI's ipmi_sim
 * (Debian package openipmi) on a loopback UDP port with its own config, in
 * a temporary directory. Its chassis is a small shell script (ipmi_sim's
 * `chassis_control` hook) that keeps the power state in a file and, on a
 * power-off, kills the "host" (a sleep process started here) a moment
 * later, so that the agent has to poll and the test can see the host stop.
 * Creating a file named `stuck` in the directory makes power-offs do nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

export interface IpmiSim {
  readonly port: number;
  readonly dir: string;
  readonly username: string;
  readonly password: string;
  /** The simulated host's process: it exits when the chassis powers off. */
  readonly host: ChildProcess;
  /** What the chassis script was asked, one line per call ("get power", "set power 0"). */
  chassisLog(): string[];
  power(): string;
  setPower(on: boolean): void;
  stop(): Promise<void>;
}

/** Absolute path of a command on PATH, or a clear failure naming the package to install. */
export function requireCommand(name: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`${name} is not installed: the IPMI tests need the Debian package ${pkg} (listed in .ci/packages.d/ipmi.txt; run npm run setup-peers)`);
  return found;
}

export async function freeUdpPort(): Promise<number> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const port = sock.address().port;
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

const CHASSIS = `#!/bin/sh
# ipmi_sim runs "<this> get power" and "<this> set power <0|1>".
dir=$(dirname "$0")
echo "$*" >> "$dir/chassis.log"
case "$1" in
  get) echo "power:$(cat "$dir/power")" ;;
  set)
    shift
    while [ $# -ge 2 ]; do
      if [ "$1" = power ] && [ "$2" = 0 ] && [ ! -e "$dir/stuck" ]; then
        ( sleep 0.3; kill "$(cat "$dir/host.pid")" 2>/dev/null; echo 0 > "$dir/power" ) >/dev/null 2>&1 &
      elif [ "$1" = power ] && [ "$2" = 1 ]; then
        echo 1 > "$dir/power"
      fi
      shift 2
    done ;;
esac
`;

export async function startIpmiSim(options: { username?: string; password?: string } = {}): Promise<IpmiSim> {
  const ipmiSim = requireCommand('ipmi_sim', 'openipmi');
  const ipmitool = requireCommand('ipmitool', 'ipmitool');
  const username = options.username ?? 'fence';
  const password = options.password ?? 'ipmi-secret-pw';
  const dir = tempDir();
  mkdirSync(join(dir, 'state'));
  const port = await freeUdpPort();
  writeFileSync(join(dir, 'chassis.sh'), CHASSIS);
  chmodSync(join(dir, 'chassis.sh'), 0o755);
  writeFileSync(join(dir, 'power'), '1\n');
  writeFileSync(
    join(dir, 'lan.conf'),
    [
      'name "vigil-test-bmc"',
      'set_working_mc 0x20',
      '  startlan 1',
      `    addr 127.0.0.1 ${port}`,
      '    priv_limit admin',
      '    allowed_auths_callback md5',
      '    allowed_auths_user md5',
      '    allowed_auths_operator md5',
      '    allowed_auths_admin md5',
      '    guid a123456789abcdefa123456789abcdef',
      '  endlan',
      `  chassis_control "${join(dir, 'chassis.sh')}"`,
      `  user 2 true "${username}" "${password}" admin 10 md5`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'sim.emu'), ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02', 'mc_enable 0x20', ''].join('\n'));

  const host = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'host.pid'), `${host.pid}\n`);
  let simErr = '';
  const sim = spawn(ipmiSim, ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'sim.emu'), '-s', join(dir, 'state'), '-n'], { stdio: ['ignore', 'ignore', 'pipe'] });
  sim.stderr?.on('data', (d: Buffer) => (simErr += d.toString()));

  const stop = async (): Promise<void> => {
    for (const p of [sim, host]) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
        p.kill('SIGTERM');
        await gone;
      }
    }
  };

  // Ready when it answers a status read; bounded.
  for (let i = 0; ; i++) {
    const probe = spawnSync(ipmitool, ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', username, '-E', '-N', '1', '-R', '1', 'chassis', 'power', 'status'], {
      env: { ...process.env, IPMI_PASSWORD: password },
      encoding: 'utf8',
      timeout: 5_000,
    });
    if (probe.status === 0) break;
    if (i >= 20 || sim.exitCode !== null) {
      await stop();
      throw new Error(`ipmi_sim did not come up on 127.0.0.1:${port}: ${simErr.trim() || probe.stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  writeFileSync(join(dir, 'chassis.log'), '');

  return {
    port,
    dir,
    username,
    password,
    host,
    chassisLog: () => (existsSync(join(dir, 'chassis.log')) ? readFileSync(join(dir, 'chassis.log'), 'utf8').split('\n').filter((l) => l !== '') : []),
    power: () => readFileSync(join(dir, 'power'), 'utf8').trim(),
    setPower: (on) => writeFileSync(join(dir, 'power'), on ? '1\n' : '0\n'),
    stop,
  };
}
