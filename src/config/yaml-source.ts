/**
 * YAML with source positions. Every operator file (config, inventory,
 * policies) is read through here so that any problem can point at the
 * exact line and column, and schema checks (zod) can be mapped back onto
 * the text.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { ZodType } from 'zod';
import { didYouMean, type Problem, type Severity } from './problems.js';

export type YamlPath = readonly (string | number)[];

export interface YamlDocument {
  readonly file: string;
  readonly index: number;
  readonly doc: Document.Parsed;
  /** The plain JavaScript value of the document. */
  readonly data: unknown;
  readonly lines: LineCounter;
}

export interface YamlFile {
  readonly file: string;
  readonly documents: readonly YamlDocument[];
  readonly problems: readonly Problem[];
}

export function readYamlFile(file: string, displayName = file): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    return { file: displayName, documents: [], problems: [{ file: displayName, line: 1, col: 1, message: reason, severity: 'error' }] };
  }
  return parseYamlText(text, displayName);
}

export function parseYamlText(text: string, file: string): YamlFile {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  const documents: YamlDocument[] = [];
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    for (const err of [...doc.errors, ...doc.warnings]) {
      const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
      problems.push({
        file,
        line: pos.line,
        col: pos.col,
        message: yamlMessage(err.code, err.message),
        severity: doc.errors.includes(err) ? 'error' : 'warning',
      });
    }
    if (doc.errors.length === 0 && doc.contents !== null) {
      documents.push({ file, index, doc, data: doc.toJS({ maxAliasCount: 100 }), lines });
    }
  });
  return { file, documents, problems };
}

function yamlMessage(code: string, message: string): string {
  // The library's message repeats the position and quotes the line; keep the first sentence.
  const first = message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message;
  return `${first} (${code})`;
}

/** Position of the value at `path` (or of its key, when `key` is set); falls back to the nearest ancestor. */
export function positionOf(d: YamlDocument, path: YamlPath, key = false): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    const wantKey = key && n === path.length && n > 0;
    const node = wantKey ? keyNode(d.doc, sub) : (d.doc.getIn(sub, true) as Node | undefined);
    const start = nodeStart(node);
    if (start !== undefined) return d.lines.linePos(start);
  }
  return { line: 1, col: 1 };
}

function keyNode(doc: Document.Parsed, path: YamlPath): Node | undefined {
  const parent = doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (!isMap(parent)) return undefined;
  for (const item of parent.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === last) return item.key;
  }
  return undefined;
}

function nodeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}

export function problemAt(d: YamlDocument, path: YamlPath, message: string, severity: Severity = 'error', key = false): Problem {
  const pos = positionOf(d, path, key);
  return { file: d.file, line: pos.line, col: pos.col, message, severity };
}

/**
 * Checks `value` (a part of document `d` found at `basePath`) against a zod
 * schema and returns either the parsed value or every problem, each placed
 * on the text.
 */
export function checkSchema<T>(
  d: YamlDocument,
  schema: ZodType<T>,
  value: unknown,
  basePath: YamlPath = [],
): { ok: true; value: T } | { ok: false; problems: Problem[] } {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const problems: Problem[] = [];
  for (const issue of result.error.issues) {
    const path = [...basePath, ...(issue.path as (string | number)[])];
    const where = dotted(path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path as (string | number)[]);
      for (const k of issue.keys) {
        const hint = didYouMean(k, known);
        const suffix = hint ? ` (did you mean "${hint}"?)` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
        problems.push(problemAt(d, [...path, k], `${where ? `${where}: ` : ''}unknown key "${k}"${suffix}`, 'error', true));
      }
      continue;
    }
    const missing = issue.code === 'invalid_type' && valueAt(value, issue.path as (string | number)[]) === undefined;
    let message: string;
    if (missing) message = `missing required key "${String(path[path.length - 1])}"`;
    else if (issue.code === 'invalid_type') message = `${where}: must be ${article(String(issue.expected))}`;
    else if (issue.code === 'invalid_value') message = `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    else if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) message = `${where}: must not be empty`;
    else message = `${where ? `${where}: ` : ''}${issue.message}`;
    problems.push(problemAt(d, missing ? path.slice(0, -1) : path, message));
  }
  return { ok: false, problems };
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function dotted(path: YamlPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

interface ZodInternals {
  _zod?: {
    def: {
      type: string;
      shape?: Record<string, unknown>;
      element?: unknown;
      innerType?: unknown;
      options?: unknown[];
      in?: unknown;
      out?: unknown;
      valueType?: unknown;
    };
  };
}

/** The keys a schema allows at `path`, for "did you mean" hints. */
export function knownKeysAt(schema: unknown, path: readonly (string | number)[]): string[] {
  const found = new Set<string>();
  const visit = (s: unknown, rest: readonly (string | number)[]): void => {
    const def = (s as ZodInternals)?._zod?.def;
    if (!def) return;
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'nullable':
      case 'prefault':
      case 'readonly':
      case 'catch':
        visit(def.innerType, rest);
        return;
      case 'pipe':
        visit(def.in, rest);
        return;
      case 'union':
        for (const o of def.options ?? []) visit(o, rest);
        return;
      case 'array':
        if (rest.length && typeof rest[0] === 'number') visit(def.element, rest.slice(1));
        return;
      case 'record':
        if (rest.length) visit(def.valueType, rest.slice(1));
        return;
      case 'object':
        if (!rest.length) {
          for (const k of Object.keys(def.shape ?? {})) found.add(k);
        } else {
          visit(def.shape?.[String(rest[0])], rest.slice(1));
        }
        return;
      default:
        return;
    }
  };
  visit(schema, path);
  return [...found].sort();
}
