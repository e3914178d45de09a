/**
 * The etcd journal against a real 3-member etcd: writes guarded by the
 * fencing token, the same fold on every replica (and equal to folding the
 * records in commit order), compaction that changes nothing, open intents
 * a new leader finds, and refusals of unreachable, foreign or damaged state.
 */
import fc from 'fast-check';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { foldRecords, type JournalRecord } from '../../../src/state/journal.js';
import { EtcdJournal, needsLeadership } from '../../../src/state/etcd/journal.js';
import { etcdConfigSchema } from '../../../src/state/etcd/config.js';
import { openEtcdState } from '../../../src/state/etcd/open.js';
import { silentLogger } from '../../../src/log.js';
import { histories, restart } from '../records.js';
import { freePort } from '../../helpers/cli.js';
import { freshPrefix, sharedEtcd } from '../../etcd/shared.js';
import { crash, leaderOf, openReplica, until } from './helpers.js';
import type { EtcdState } from '../../../src/state/etcd/open.js';

async function threeReplicas(prefix: string, clusters = ['c', 'd'], extra: { compactAfterRecords?: number } = {}): Promise<EtcdState[]> {
  const endpoints = sharedEtcd();
  const rs = await Promise.all(['r1', 'r2', 'r3'].map((name) => openReplica({ endpoints, prefix, clusters, name, ...extra })));
  for (const r of rs) r.start(0);
  await until('a leader for every cluster', () => clusters.every((c) => leaderOf(rs, c).length === 1));
  return rs;
}

/** Writes each record through a replica allowed to: the cluster's leader, or any replica for operators' and "*" records. */
async function writeAll(rs: readonly EtcdState[], records: readonly JournalRecord[]): Promise<void> {
  let i = 0;
  for (const r of records) {
    const cluster = r.type === 'checkpoint' ? '*' : r.cluster;
    const writer = needsLeadership(r) ? leaderOf(rs, cluster)[0] : rs[i++ % rs.length];
    if (!writer) throw new Error(`no leader for ${cluster}`);
    await writer.journal.append(r);
  }
}

async function converged(rs: readonly EtcdState[], records: readonly JournalRecord[]): Promise<void> {
  const want = foldRecords(records);
  await until('every replica to fold the same state', () => rs.every((r) => isEqual(r.journal.state(), want)), 5_000);
  for (const r of rs) expect(r.journal.state()).toEqual(want);
}

function isEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}

describe('etcd journal', () => {
  it('every replica folds the same state, equal to folding the records in commit order; a new replica reads it too', async () => {
    const prefix = freshPrefix('fold');
    const rs = await threeReplicas(prefix);
    const runs = fc.sample(histories(30), { numRuns: 3, seed: 42 });
    const all: JournalRecord[] = [];
    for (const records of runs) {
      // Ids restart at i1 in each sample: keep them apart as the writer prefix does in real use.
      const tagged = records.map((r) => ('id' in r ? { ...r, id: `s${runs.indexOf(records)}-${r.id}` } : r)) as JournalRecord[];
      await writeAll(rs, tagged);
      all.push(...tagged);
      await converged(rs, all);
    }
    const late = await openReplica({ endpoints: sharedEtcd(), prefix, clusters: ['c', 'd'], name: 'late' });
    expect(late.journal.state()).toEqual(foldRecords(all));
  });

  it('compacts a cluster into a snapshot that folds to the same state, on every replica and for a new one', async () => {
    const prefix = freshPrefix('compact');
    const rs = await threeReplicas(prefix, ['c'], { compactAfterRecords: 25 });
    const leader = leaderOf(rs, 'c')[0] as EtcdState;
    const records: JournalRecord[] = [];
    for (let n = 1; n <= 60; n++) {
      const id = `${leader.journal.writer}-i${n}`;
      records.push({ type: 'intent', id, cluster: 'c', action: restart(`vm${n % 7}`, `h${n % 3}`), at: n });
      if (n % 3) records.push({ type: 'outcome', id, cluster: 'c', ok: n % 2 === 0, ...(n % 2 ? { message: 'no room' } : {}), at: n + 0.5 });
    }
    records.push({ type: 'fenced', cluster: 'c', host: 'h0', agent: 'redfish', evidence: 'PowerState Off', at: 99 });
    await writeAll(rs, records);
    await converged(rs, records);
    const keys = await leader.client.getAll().prefix(leader.layout.journalPrefix('c')).keys();
    expect(keys.length).toBeLessThan(25 + 5);
    expect(await leader.client.get(leader.layout.snapshot('c')).string()).not.toBeNull();
    const late = await openReplica({ endpoints: sharedEtcd(), prefix, clusters: ['c'], name: 'late' });
    expect(late.journal.state()).toEqual(foldRecords(records));
  });

  it("refuses, inside etcd, a write carrying a deposed leader's fencing token", async () => {
    const prefix = freshPrefix('token');
    const rs = await threeReplicas(prefix, ['c']);
    const old = leaderOf(rs, 'c')[0] as EtcdState;
    const staleToken = old.elections.token('c');
    expect(staleToken).toBeDefined();
    crash(old);
    const others = rs.filter((r) => r !== old);
    const next = await until('a new leader', () => leaderOf(others, 'c')[0], 8_000);
    // A journal that still believes in the old term: only etcd's check stands between it and the record.
    let lost = '';
    const stale = new EtcdJournal({
      client: next.client,
      layout: next.layout,
      view: next.view,
      watcher: next.watcher,
      tokens: { token: () => staleToken, lost: (_c, why) => (lost = why) },
      requestTimeoutMs: 2_000,
      logger: silentLogger(),
      replica: 'ghost',
    });
    await expect(stale.append({ type: 'intent', id: 'ghost-i1', cluster: 'c', action: restart('db-1', 'h2'), at: 1 })).rejects.toMatchObject({ code: 'VIGIL_E_NOT_LEADER' });
    expect(lost).toMatch(/election key gone/);
    expect(await next.client.getAll().prefix(next.layout.journalPrefix('c')).keys()).toEqual([]);
    // The new term's token works.
    await next.journal.append({ type: 'intent', id: next.journal.nextId(), cluster: 'c', action: restart('db-1', 'h2'), at: 2 });
    expect(next.journal.state().open.size).toBe(1);
  });

  it('a new leader finds the intents its predecessor left open, and closes them for everyone', async () => {
    const prefix = freshPrefix('resume');
    const rs = await threeReplicas(prefix, ['c']);
    const old = leaderOf(rs, 'c')[0] as EtcdState;
    const id = old.journal.nextId();
    await old.journal.append({ type: 'intent', id, cluster: 'c', action: restart('db-1', 'h2'), at: 10 });
    await old.journal.append({ type: 'started', id, cluster: 'c', task: { id: 'task-7', op: 'restart' }, at: 11 });
    crash(old);
    const others = rs.filter((r) => r !== old);
    const next = await until('a new leader', () => leaderOf(others, 'c')[0], 8_000);
    expect([...next.journal.state().open.values()]).toEqual([{ intent: expect.objectContaining({ id, action: expect.objectContaining({ vm: 'db-1' }) }), task: { id: 'task-7', op: 'restart' } }]);
    await next.journal.append({ type: 'outcome', id, cluster: 'c', ok: true, message: 'it took effect', at: 20 });
    for (const r of others) await until(`${r.replica} to see it closed`, () => r.journal.state().open.size === 0);
    // The new leader's ids never collide with the old leader's.
    expect(next.journal.nextId()).not.toBe(id);
    expect(Number(/(\d+)$/.exec(next.journal.nextId())?.[1])).toBeGreaterThan(Number(/(\d+)$/.exec(id)?.[1]));
  });

  it('a standby takes operators\' records but refuses the leader\'s', async () => {
    const prefix = freshPrefix('standby');
    const rs = await threeReplicas(prefix, ['c']);
    const standby = rs.find((r) => !r.leadership('c')?.isLeader()) as EtcdState;
    await standby.journal.append({ type: 'freeze', cluster: 'c', reason: 'network work', by: 'alice', at: 1 });
    await standby.journal.append({ type: 'freeze', cluster: '*', reason: 'upgrade', by: 'bob', at: 2 });
    await standby.journal.append({ type: 'fence-confirmed', cluster: 'c', host: 'h1', by: 'alice', at: 3 });
    await expect(standby.journal.append({ type: 'intent', id: standby.journal.nextId(), cluster: 'c', action: restart('x', 'h2'), at: 4 })).rejects.toMatchObject({ code: 'VIGIL_E_NOT_LEADER' });
    await expect(standby.journal.append({ type: 'fenced', cluster: 'c', host: 'h1', agent: 'redfish', evidence: 'off', at: 5 })).rejects.toMatchObject({ code: 'VIGIL_E_NOT_LEADER' });
    for (const r of rs) await until('the freezes everywhere', () => r.journal.state().frozen.size === 2 && r.journal.state().confirmed.size === 1);
  });

  it('refuses to start on unreachable etcd, on a prefix that is not Vigil\'s, and on a damaged record', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const config = etcdConfigSchema.parse({ endpoints: [dead], dialTimeout: '500ms' });
    const err = await openEtcdState({ config, baseDir: '.', clusters: ['c'], logger: silentLogger() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VIGIL_E_CONFIG_INVALID', expected: true });
    expect((err as Error).message).toMatch(new RegExp(`cannot reach etcd at ${dead}`));

    const endpoints = sharedEtcd();
    const raw = new Etcd3({ hosts: endpoints });
    try {
      const foreign = freshPrefix('foreign');
      await raw.put(`${foreign}app/config`).value('{"theirs":true}');
      await expect(openReplica({ endpoints, prefix: foreign, clusters: ['c'], name: 'x' })).rejects.toMatchObject({ code: 'VIGIL_E_JOURNAL_FOREIGN' });
      expect(await raw.get(`${foreign}app/config`).string()).toBe('{"theirs":true}');

      const damaged = freshPrefix('damaged');
      const first = await openReplica({ endpoints, prefix: damaged, clusters: ['c'], name: 'first' });
      await first.close();
      await raw.put(`${damaged}journal/c/zz-000000000001`).value('not json');
      await expect(openReplica({ endpoints, prefix: damaged, clusters: ['c'], name: 'second' })).rejects.toMatchObject({ code: 'VIGIL_E_JOURNAL_CORRUPT' });
    } finally {
      raw.close();
    }
  });

  it('stops recording when it reads a record it does not understand', async () => {
    const prefix = freshPrefix('broken');
    const [r] = await threeReplicas(prefix, ['c']);
    const raw = new Etcd3({ hosts: sharedEtcd() });
    try {
      await raw.put(`${prefix}journal/c/zz-000000000001`).value('{"v":99}');
      await until('the replica to notice', () => (r as EtcdState).view.broken);
      expect((r as EtcdState).ready()).toBe(false);
      await expect((r as EtcdState).journal.append({ type: 'freeze', cluster: '*', reason: 'x', by: 'y', at: 1 })).rejects.toMatchObject({ code: 'VIGIL_E_NOT_LEADER' });
    } finally {
      raw.close();
    }
  });
});
