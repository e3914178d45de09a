// Appends to a journal until the file size limit (ulimit -f, set by the caller) stops a write part-way,
// for test/state/file-journal.test.ts. Prints "ok <count>" and the error of the failed append.
import { writeSync } from 'node:fs';
import { FileJournal } from '../../dist/src/state/file-journal.js';

// The kernel signals SIGXFSZ when a write passes the limit; handled, the write fails with EFBIG instead.
process.on('SIGXFSZ', () => {});
const say = (line) => writeSync(1, `${line}\n`);
const journal = FileJournal.open(process.argv[2]);
let count = 0;
for (;;) {
  count += 1;
  try {
    journal.appendSync({ type: 'freeze', cluster: `c${count}`, reason: 'x'.repeat(300), by: 'ops', at: count });
  } catch (e) {
    say(`ok ${count - 1}`);
    say(`failed ${e.code} ${e.message}`);
    break;
  }
}
journal.close();
