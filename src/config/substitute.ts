/**
 * `${env:NAME}` and `${file:PATH}` in config strings, so secrets stay out
 * of the file. Unset variables and unreadable files are errors with the
 * position of the string that named them; the values never appear in
 * messages.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Problem } from './problems.js';
import { problemAt, type YamlDocument, type YamlPath } from './yaml-source.js';

const REF = /\$\{(env|file):([^}]+)\}/g;

export function substitute(d: YamlDocument, value: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  const walk = (v: unknown, path: YamlPath): unknown => {
    if (typeof v === 'string') return v.includes('${') ? replace(v, path) : v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    return v;
  };
  const replace = (text: string, path: YamlPath): string =>
    text.replace(REF, (_m, kind: string, ref: string) => {
      const name = ref.trim();
      if (kind === 'env') {
        const val = env[name];
        if (val === undefined) {
          // Keep the reference as written: the load fails on this problem alone, not on a second one about an empty value.
          problems.push(problemAt(d, path, `environment variable ${name} is not set`));
          return _m;
        }
        return val;
      }
      try {
        return readFileSync(resolve(baseDir, name), 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        problems.push(problemAt(d, path, `cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
        return _m;
      }
    });
  return { value: walk(value, []), problems };
}
