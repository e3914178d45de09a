/** Talking to the running controller of this config (its listen address, with its token). */
import axios from 'axios';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseListen } from '../config/listen.js';
import type { VigilConfig } from '../config/load.js';
import { CliExit, Exit } from './exit.js';
import { ErrorCodes, isVigilError } from '../errors.js';
import { openState } from '../state/open-state.js';
import type { JournalRecord } from '../state/journal.js';
import { appendOperatorRecord } from '../state/etcd/operator.js';

export function serviceUrl(config: VigilConfig): string {
  const l = parseListen(config.controller.listen) as { host: string; port: number };
  return `http://${l.host}:${l.port}`;
}

/** The token the CLI presents: `controller.webhook.token`, else the first line of its tokenFile (the others are older ones kept during a rotation). */
export function token(config: VigilConfig): string | undefined {
  const { token: inline, tokenFile: file } = config.controller.webhook;
  if (inline) return inline;
  if (!file) return undefined;
  try {
    return readFileSync(resolve(config.baseDir, file), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean);
  } catch (e) {
    throw new CliExit(Exit.FAILURE, `error: cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** POSTs to the running service; throws a clear CliExit when none answers or it refuses. */
export async function postToService(config: VigilConfig, path: string, body: unknown): Promise<unknown> {
  const t = token(config);
  let res;
  try {
    res = await axios.post(`${serviceUrl(config)}${path}`, body, { timeout: 5_000, validateStatus: () => true, headers: t ? { authorization: `Bearer ${t}` } : {} });
  } catch {
    throw new CliExit(Exit.FAILURE, `error: no Vigil controller answers at ${serviceUrl(config)} (is 'vigil run' running with this config?)`);
  }
  if (res.status >= 400) {
    const err = (res.data as { error?: { message?: string } })?.error;
    throw new CliExit(Exit.FAILURE, `error: ${err?.message ?? `the controller answered HTTP ${res.status}`}`);
  }
  return res.data;
}

/**
 * Hands a change to the running controller; when none answers, writes it to
 * the journal in the state directory under the same lock the controller
 * takes, so the next `vigil run` applies it. A controller that holds the
 * lock but whose API does not answer is an error, never a second writer.
 */
export async function changeState(config: VigilConfig, path: string, body: unknown, record: (now: number) => JournalRecord): Promise<{ via: 'service' | 'journal'; answer?: unknown }> {
  try {
    return { via: 'service', answer: await postToService(config, path, body) };
  } catch (e) {
    if (!(e instanceof CliExit) || !e.message.includes('no Vigil controller answers')) throw e;
  }
  if (config.etcd) {
    // Replicated mode: the state is in etcd, where every replica reads it; there is no state directory to write to.
    try {
      await appendOperatorRecord(config.etcd, config.baseDir, record(Date.now()), { warn: () => undefined });
    } catch (e) {
      throw new CliExit(Exit.FAILURE, `error: ${(e as Error).message}`);
    }
    return { via: 'journal' };
  }
  const stateDir = resolve(config.baseDir, config.controller.stateDir);
  let state;
  try {
    state = openState(stateDir);
  } catch (e) {
    if (isVigilError(e) && e.code === ErrorCodes.STATE_LOCKED) {
      throw new CliExit(Exit.FAILURE, `error: a Vigil controller holds ${stateDir} but does not answer at ${serviceUrl(config)}: ${e.message}`);
    }
    throw new CliExit(Exit.FAILURE, `error: ${(e as Error).message}`);
  }
  try {
    state.journal.appendSync(record(Date.now()));
  } finally {
    state.close();
  }
  return { via: 'journal' };
}
