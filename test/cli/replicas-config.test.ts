/**
 * `state.etcd` in vigil.yaml: validated key by key, and `vigil run` on an
 * etcd it cannot reach says so and exits 1 before it touches anything.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli.js';
import { builtinPath } from '../../src/paths.js';
import { vigil } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function config(dir: string, etcd: string, labUrl = 'http://127.0.0.1:9'): string {
  const path = join(dir, 'vigil.yaml');
  writeFileSync(
    path,
    `controller:\n  listen: 127.0.0.1:0\nstate:\n  etcd:\n${etcd}policies: ${builtinPath('policies')}\nclusters:\n  - name: lab\n    provider: sim\n    url: ${labUrl}\n`,
  );
  return path;
}

describe('state.etcd in the config', () => {
  it('reports every wrong key with its position', () => {
    const dir = tempDir();
    const path = config(dir, '    endpoints: [ftp://etcd-1:2379]\n    leaseTtl: 1500ms\n    tls: {certFile: a.pem}\n    ttl: 10s\n');
    const r = vigil(['validate', '--config', path]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/vigil\.yaml:5:\d+.*endpoints.*http:\/\/ or https:\/\//s);
    expect(out).toMatch(/leaseTtl.*at least 2000ms/s);
    expect(out).toMatch(/certFile and keyFile go together/);
    expect(out).toMatch(/ttl/);
  });

  it('takes a password through ${env:} and never prints it', () => {
    const dir = tempDir();
    const path = config(dir, '    endpoints: [http://127.0.0.1:2379]\n    auth: {username: vigil, password: "${env:ETCD_PW}"}\n');
    const r = vigil(['validate', '--config', path], { env: { ETCD_PW: 'hunter2-secret' } });
    expect(r.stdout + r.stderr).not.toContain('hunter2-secret');
    expect(r.code).toBe(0);
  });

  it('vigil run on unreachable etcd: a clear error, exit 1, nothing started', async () => {
    const dir = tempDir();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const path = config(dir, `    endpoints: [${dead}]\n    dialTimeout: 500ms\n    auth: {username: vigil, password: "\${env:ETCD_PW}"}\n`);
    const r = vigil(['run', '--config', path], { env: { ETCD_PW: 'hunter2-secret' }, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach etcd at ${dead}`);
    expect(r.stdout + r.stderr).not.toContain('hunter2-secret');
    expect(r.stdout).not.toContain('Vigil is watching');
  });
});
