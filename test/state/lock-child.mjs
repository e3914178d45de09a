// A process that takes a state directory's lock when told ("go" on stdin), for test/state/lock.test.ts.
// Prints "won <pid>" or "refused <code> <message>"; "release" lets go; the end of stdin ends it.
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { StateLock } from '../../dist/src/state/lock.js';

const stateDir = process.argv[2];
let lock;
const say = (line) => writeSync(1, `${line}\n`);

say(`ready ${process.pid}`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    try {
      lock = StateLock.acquire(stateDir);
      say(`won ${process.pid}${lock.tookOver ? ` tookover ${lock.tookOver.pid}` : ''}`);
    } catch (e) {
      say(`refused ${e.code} ${e.message}`);
    }
  } else if (line === 'release') {
    lock?.release();
    say('released');
  }
}
