/**
 * An operator's record (freeze, unfreeze, fence confirmation) written
 * straight to etcd, for `vigil freeze` and friends when no replica's API
 * answers: every replica folds it from the watch, and the next one to
 * start reads it. These records need no leadership (journal.ts).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, VigilError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { JournalRecord } from '../journal.js';
import { connectEtcd } from './client.js';
import type { EtcdConfig } from './config.js';
import { needsLeadership } from './journal.js';
import { bucketOf, encodeRecord, layout, STATE_FORMAT } from './keys.js';

export async function appendOperatorRecord(config: EtcdConfig, baseDir: string, record: JournalRecord, logger: Pick<Logger, 'warn'>): Promise<void> {
  if (needsLeadership(record)) throw new VigilError(ErrorCodes.NOT_LEADER, `a ${record.type} record is written by a cluster's leader only`);
  const l = layout(config.prefix);
  const client = await connectEtcd(config, { baseDir, logger, probeKey: l.meta });
  try {
    const meta = await client.get(l.meta).string();
    let format: unknown;
    try {
      format = meta === null ? undefined : (JSON.parse(meta) as { format?: unknown }).format;
    } catch {
      format = undefined;
    }
    if (format !== STATE_FORMAT) {
      throw new VigilError(ErrorCodes.JOURNAL_FOREIGN, `no Vigil state of format ${STATE_FORMAT} under ${l.prefix} in etcd: start a replica (vigil run) first, or check state.etcd.prefix`, { expected: true });
    }
    await client.put(l.journalKey(bucketOf(record), `cli${randomBytes(3).toString('hex')}`, 1)).value(encodeRecord(record));
  } finally {
    client.close();
  }
}
