/** The few file operations the journal and the lock build their durability on. */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';

/** Writes all of `buf` at `position` (a write may take less than asked). */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
}

/** Makes a create, rename or unlink in `dir` durable. */
export function fsyncDir(dir: string): void {
  // Windows can neither open nor fsync a directory; its renames are durable on their own.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
