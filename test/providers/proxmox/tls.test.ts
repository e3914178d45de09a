/** TLS against the stand-in's self-signed certificate (made at test time): refused by default, trusted by caFile or a pinned fingerprint, unchecked only with insecure: true (and a warning). */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/clock/clock.js';
import { ErrorCodes, VigilError } from '../../../src/errors.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import proxmoxProvider from '../../../providers/proxmox/index.js';
import { startHarness, type Harness } from '../../pve-standin/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

async function snapshotWith(tls: Record<string, unknown>, logger: Logger = silentLogger()) {
  const entry = { ...h.entry(), caFile: undefined, ...tls };
  const p = await proxmoxProvider.create(proxmoxProvider.configSchema.parse(entry), { clock: new SystemClock(), logger, baseDir: h.dir });
  try {
    return await p.snapshot();
  } finally {
    await p.close();
  }
}

describe('proxmox provider TLS', () => {
  it('refuses a self-signed certificate by default, as a TLS refusal that says what to do', async () => {
    const e = await snapshotWith({}).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(VigilError);
    const v = e as VigilError;
    expect(v.code).toBe(ErrorCodes.PROVIDER_REFUSED);
    expect(v.details.reason).toBe('tls');
    expect(v.message).toMatch(/not trusted.*caFile or fingerprint/);
  });

  it('trusts the certificate given as caFile', async () => {
    expect((await snapshotWith({ caFile: h.tls.certFile })).hosts.length).toBe(3);
  });

  it('trusts a pinned SHA-256 fingerprint, in Proxmox notation or without colons', async () => {
    expect((await snapshotWith({ fingerprint: h.tls.fingerprint })).hosts.length).toBe(3);
    expect((await snapshotWith({ fingerprint: h.tls.fingerprint.replace(/:/g, '').toLowerCase() })).hosts.length).toBe(3);
  });

  it('refuses a certificate whose fingerprint is not the pinned one', async () => {
    const wrong = h.tls.fingerprint.replace(/^../, h.tls.fingerprint.startsWith('00') ? '11' : '00');
    const e = (await snapshotWith({ fingerprint: wrong }).catch((x: unknown) => x)) as VigilError;
    expect(e.details.reason).toBe('tls');
    expect(e.message).toContain('is not the pinned');
  });

  it('skips checks with insecure: true, and warns', async () => {
    let logged = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((logged += chunk.toString()), cb()) });
    expect((await snapshotWith({ insecure: true }, pino({ level: 'warn' }, sink))).hosts.length).toBe(3);
    expect(logged).toContain('TLS certificate checks are OFF');
    expect(logged).not.toContain(h.entry().tokenSecret as string);
  });

  it('rejects conflicting TLS settings in the config', () => {
    const r = proxmoxProvider.configSchema.safeParse({ ...h.entry(), insecure: true });
    expect(r.success).toBe(false);
  });
});

describe('proxmox provider ticket login (user and password) over real HTTPS', () => {
  it('logs in, reads, and sends a POST with its CSRF token', async () => {
    const entry = { ...h.entry(), tokenId: undefined, tokenSecret: undefined, username: 'vigil@pve', password: 'standin-password' };
    const p = await proxmoxProvider.create(proxmoxProvider.configSchema.parse(entry), { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir });
    try {
      expect((await p.snapshot()).vms.length).toBeGreaterThan(0);
      const ref = await p.migrate({ id: '103', name: 'build-01' }, { id: 'pve2', name: 'pve2' }, { live: false });
      expect(ref.id).toMatch(/:qmigrate:103:/);
      const bad = await proxmoxProvider.create(proxmoxProvider.configSchema.parse({ ...entry, password: 'wrong' }), { clock: new SystemClock(), logger: silentLogger(), baseDir: h.dir });
      const e = (await bad.snapshot().catch((x: unknown) => x)) as VigilError;
      expect(e.details.reason).toBe('auth');
      expect(e.message).not.toContain('wrong');
      await bad.close();
    } finally {
      await p.close();
    }
  });
});
