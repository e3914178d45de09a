/** The suite's etcd cluster (global-setup.ts), and a fresh prefix per test. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export function sharedEtcd(): string[] {
  const e = inject('etcd');
  if (!e.endpoints.length) throw new Error(`no etcd for this test: ${e.error ?? 'the global setup did not start one'}`);
  return e.endpoints;
}

export function freshPrefix(tag = 't'): string {
  return `/vigil-test/${tag}-${randomBytes(4).toString('hex')}/`;
}
