// Appends journal records in a loop until killed, for test/state/journal-crash.test.ts.
// Prints "will <record>" before each append and "ok <record>" once append has returned (the record is on disk).
// Usage: journal-writer.mjs STATE_DIR SEED COMPACT_AT_BYTES
import { writeSync } from 'node:fs';
import { openState } from '../../dist/src/state/open-state.js';

const [stateDir, seedArg, compactArg] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];
// Synchronous writes to the pipe: once one returns, the line outlives this process.
const say = (line) => writeSync(1, `${line}\n`);

const state = openState(stateDir, { compactAtBytes: Number(compactArg) });
say(`opened ${JSON.stringify(state.report)}`);
const { journal } = state;
const hosts = ['h1', 'h2', 'h3', 'h4'];
const deadline = Date.now() + 20_000;
for (let i = 0; Date.now() < deadline; i++) {
  const open = [...journal.state().open.values()].map((o) => o.intent);
  // Keep a few dozen intents open, as a restart wave would, so compaction has something to carry over.
  const roll = open.length > 40 ? 0.6 : random();
  const at = Date.now();
  let record;
  if (roll < 0.45 || !open.length) {
    const vm = `vm${Math.floor(random() * 30)}`;
    const to = pick(hosts);
    record = { type: 'intent', id: journal.nextId(), cluster: 'c', action: { type: 'restart', cluster: 'c', vm, vmId: vm, from: 'h0', to, toId: to, priority: 'medium', wave: 1, reason: 'h0 failed' }, at };
  } else if (roll < 0.55) {
    const o = pick(open);
    record = { type: 'started', id: o.id, cluster: 'c', task: { id: `task-${o.id}`, op: 'restart' }, at };
  } else if (roll < 0.85) {
    const o = pick(open);
    const ok = random() < 0.5;
    record = { type: 'outcome', id: o.id, cluster: 'c', ok, ...(ok ? {} : { message: `no room on ${o.action.to}` }), at };
  } else {
    const host = pick(hosts);
    record = pick([
      { type: 'fenced', cluster: 'c', host, agent: 'redfish', evidence: 'PowerState Off', at },
      { type: 'fence-confirmed', cluster: 'c', host, by: 'ops', at },
      { type: 'host-back', cluster: 'c', host, at },
      { type: 'freeze', cluster: 'c', reason: 'mass failure', by: 'controller', at },
      { type: 'unfreeze', cluster: 'c', by: 'ops', at },
      { type: 'attempts-reset', cluster: 'c', vm: `vm${Math.floor(random() * 30)}`, at },
    ]);
  }
  const json = JSON.stringify(record);
  say(`will ${json}`);
  journal.append(record);
  say(`ok ${json}`);
}
state.close();
