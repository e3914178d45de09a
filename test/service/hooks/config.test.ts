/** controller.webhook: the schema's defaults and refusals, and reading the secret files. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, VigilError } from '../../../src/errors.js';
import { resolverFromInventory, webhookConfigSchema, webhookSettings } from '../../../src/service/hooks/index.js';

describe('controller.webhook config', () => {
  it('has safe defaults', () => {
    expect(webhookConfigSchema.parse({})).toEqual({
      requireTimestamp: false,
      replayWindow: 300_000,
      allowQueryToken: false,
      allowUnauthenticated: false,
      rateLimit: { perSecond: 100, burst: 500 },
      duplicateWindow: 600_000,
      hintInterval: 1_000,
    });
  });

  it('takes durations as text and refuses nonsense', () => {
    expect(webhookConfigSchema.parse({ replayWindow: '2m', duplicateWindow: '1h', hintInterval: '500ms' })).toMatchObject({ replayWindow: 120_000, duplicateWindow: 3_600_000, hintInterval: 500 });
    expect(webhookConfigSchema.safeParse({ replayWindow: '10' }).success).toBe(false);
    expect(webhookConfigSchema.safeParse({ rateLimit: { perSecond: 0 } }).success).toBe(false);
    expect(webhookConfigSchema.safeParse({ tokenFil: 'x' }).success).toBe(false);
    expect(webhookConfigSchema.safeParse({ allowUnauthenticated: true, token: 'x' }).success).toBe(false);
  });

  it('reads secret files relative to the config, one credential per line, and warns about weak or missing ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-hooks-'));
    writeFileSync(join(dir, 'token'), 'first-token-0123456789\n\nshort\n');
    writeFileSync(join(dir, 'hmac'), 'hmac-secret-0123456789abcdef\r\n');
    const s = await webhookSettings(webhookConfigSchema.parse({ tokenFile: 'token', hmacSecretFile: 'hmac', requireTimestamp: true }), dir);
    expect(s.auth).toMatchObject({ tokens: ['first-token-0123456789', 'short'], hmacSecrets: ['hmac-secret-0123456789abcdef'], requireTimestamp: true, replayWindowMs: 300_000 });
    expect(s.limits).toEqual({ ratePerSecond: 100, rateBurst: 500, duplicateWindowMs: 600_000, hintIntervalMs: 1_000 });
    expect(s.warnings).toEqual(['a webhook token is shorter than 16 characters']);
    expect((await webhookSettings(webhookConfigSchema.parse({}), dir)).warnings).toEqual(['no webhook token or HMAC secret is configured: every hook will be refused with 401']);
  });

  it('fails with a coded error, naming the key but not the content, when a file is missing or empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-hooks-'));
    writeFileSync(join(dir, 'empty'), '\n');
    for (const [cfg, message] of [
      [{ tokenFile: 'nope' }, 'cannot read controller.webhook.tokenFile nope: ENOENT'],
      [{ hmacSecretFile: 'empty' }, 'controller.webhook.hmacSecretFile empty is empty'],
    ] as const) {
      const e = await webhookSettings(webhookConfigSchema.parse(cfg), dir).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(VigilError);
      expect((e as VigilError).code).toBe(ErrorCodes.CONFIG_SECRET);
      expect((e as VigilError).message).toBe(message);
    }
  });
});

describe('resolverFromInventory', () => {
  const views = [
    { name: 'prod', hosts: ['esx-01.corp', 'esx-02.corp', '10.0.0.5'], platformCluster: 'Cluster01', origins: ['https://vc01.corp/sdk'] },
    { name: 'dr', hosts: ['esx-01.dr', 'esx-02.corp'], platformCluster: 'DR01', origins: ['https://vc02.corp/sdk'] },
  ];
  const resolve = resolverFromInventory(() => views);

  it('matches hosts exactly, by case, then by first label when unambiguous', () => {
    expect(resolve({ source: 'generic', host: '10.0.0.5' })).toEqual([{ cluster: 'prod', host: '10.0.0.5' }]);
    expect(resolve({ source: 'generic', host: 'ESX-01.CORP' })).toEqual([{ cluster: 'prod', host: 'esx-01.corp' }]);
    expect(resolve({ source: 'generic', host: 'esx-01' })).toEqual([
      { cluster: 'prod', host: 'esx-01.corp' },
      { cluster: 'dr', host: 'esx-01.dr' },
    ]);
    expect(resolve({ source: 'generic', host: '10.0.0' })).toEqual([]);
  });

  it('hints every cluster that knows a host, unless the sender is tied to one vCenter', () => {
    expect(resolve({ source: 'vsphere', host: 'esx-02.corp' }).map((t) => t.cluster)).toEqual(['prod', 'dr']);
    expect(resolve({ source: 'vsphere', host: 'esx-02.corp', origin: 'https://vc02.corp:443/sdk' }).map((t) => t.cluster)).toEqual(['dr']);
  });

  it('places cluster-only events by the platform cluster name, and a new host by its platform cluster', () => {
    expect(resolve({ source: 'vsphere', platformCluster: 'dr01' })).toEqual([{ cluster: 'dr' }]);
    expect(resolve({ source: 'vsphere', host: 'esx-09.corp', platformCluster: 'Cluster01' })).toEqual([{ cluster: 'prod' }]);
    expect(resolve({ source: 'vsphere' })).toEqual([]);
  });

  it('caches the inventory when asked', () => {
    let calls = 0;
    let t = 0;
    const r = resolverFromInventory(
      () => {
        calls++;
        return views;
      },
      { cacheMs: 1_000, now: () => t },
    );
    r({ source: 'generic', host: '10.0.0.5' });
    r({ source: 'generic', host: '10.0.0.5' });
    t = 1_000;
    r({ source: 'generic', host: '10.0.0.5' });
    expect(calls).toBe(2);
  });
});
