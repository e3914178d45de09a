/** Small schema types shared by config sections (kept apart so any section can use them without import cycles). */
import { z } from 'zod';
import { parseDuration } from '../clock/duration.js';
import { parseListen } from './listen.js';

/** A duration written as text (`10s`, `2m`), parsed to milliseconds. */
export function duration(min = 0): z.ZodType<number> {
  return z
    .string()
    .refine((s) => parseDuration(s) !== undefined, 'must be a duration such as 500ms, 10s or 2m')
    .transform((s) => parseDuration(s) as number)
    .refine((ms) => ms >= min, `must be at least ${min}ms`);
}

export const listenAddress = z.string().refine((s) => parseListen(s) !== undefined, 'must be host:port, such as 127.0.0.1:8080');
