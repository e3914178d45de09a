/**
 * A small PowerShell tokenizer: enough of the language to find strings,
 * comments, variables and brackets exactly, so that the provider's scripts
 * can be checked and collapsed to one line without changing their meaning.
 * It is not a parser; it refuses what it does not understand (here-strings,
 * line continuations, strings that span lines) instead of guessing.
 */

export type TokenKind = 'newline' | 'space' | 'comment' | 'blockComment' | 'string' | 'expandableString' | 'variable' | 'open' | 'close' | 'punct' | 'word';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

export interface LexProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  readonly problems: readonly LexProblem[];
}

const OPENERS = new Set(['(', '{', '[', '@(', '@{', '$(']);
const CLOSER_OF: Record<string, string> = { '(': ')', '{': '}', '[': ']', '@(': ')', '@{': '}', '$(': ')' };
const WORD_END = /[\s(){}[\];,|&'"`$#<>=+*/%!\]]/;

export function lexPowerShell(src: string): LexResult {
  const tokens: Token[] = [];
  const problems: LexProblem[] = [];
  const stack: { text: string; line: number; col: number }[] = [];
  let i = 0;
  let line = 1;
  let col = 1;

  const problem = (message: string, l = line, c = col) => problems.push({ line: l, col: c, message });
  const push = (kind: TokenKind, text: string, l: number, c: number) => tokens.push({ kind, text, line: l, col: c });
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        line += 1;
        col = 1;
      } else col += 1;
      i += 1;
    }
  };

  /** Scans a double-quoted string from its opening quote; returns its length, or -1 when it does not close on its line. */
  const scanExpandable = (start: number): number => {
    let j = start + 1;
    while (j < src.length) {
      const ch = src[j];
      if (ch === '\n') return -1;
      if (ch === '`') {
        if (src[j + 1] === '\n' || src[j + 1] === undefined) return -1;
        j += 2;
        continue;
      }
      if (ch === '"') {
        if (src[j + 1] === '"') {
          j += 2;
          continue;
        }
        return j + 1 - start;
      }
      if (ch === '$' && src[j + 1] === '(') {
        const end = scanSubexpression(j + 1);
        if (end < 0) return -1;
        j = end;
        continue;
      }
      j += 1;
    }
    return -1;
  };

  /** From an opening parenthesis inside a string, the index after its matching close, skipping nested strings; -1 if unbalanced on this line. */
  const scanSubexpression = (open: number): number => {
    let depth = 0;
    let j = open;
    while (j < src.length) {
      const ch = src[j];
      if (ch === '\n') return -1;
      if (ch === '(') depth += 1;
      else if (ch === ')') {
        depth -= 1;
        if (depth === 0) return j + 1;
      } else if (ch === "'") {
        const n = scanSingle(j);
        if (n < 0) return -1;
        j += n;
        continue;
      } else if (ch === '"') {
        const n = scanExpandable(j);
        if (n < 0) return -1;
        j += n;
        continue;
      } else if (ch === '`') {
        j += 2;
        continue;
      }
      j += 1;
    }
    return -1;
  };

  /** A single-quoted string ('' is a quote inside it); -1 when it does not close on its line. */
  const scanSingle = (start: number): number => {
    let j = start + 1;
    while (j < src.length) {
      const ch = src[j];
      if (ch === '\n') return -1;
      if (ch === "'") {
        if (src[j + 1] === "'") {
          j += 2;
          continue;
        }
        return j + 1 - start;
      }
      j += 1;
    }
    return -1;
  };

  while (i < src.length) {
    const ch = src[i] as string;
    const next = src[i + 1];
    const l = line;
    const c = col;
    if (ch.charCodeAt(0) > 0x7e || (ch.charCodeAt(0) < 0x20 && ch !== '\n' && ch !== '\t' && ch !== '\r')) {
      problem(`character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')} is not plain ASCII (PowerShell reads some of them as quotes or dashes)`);
      advance(1);
      continue;
    }
    if (ch === '\r') {
      problem('carriage return: scripts use LF line ends');
      advance(1);
      continue;
    }
    if (ch === '\n') {
      push('newline', '\n', l, c);
      advance(1);
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      let j = i;
      while (src[j] === ' ' || src[j] === '\t') j++;
      push('space', src.slice(i, j), l, c);
      advance(j - i);
      continue;
    }
    if (ch === '<' && next === '#') {
      const end = src.indexOf('#>', i + 2);
      if (end < 0) {
        problem('block comment is not closed');
        advance(src.length - i);
        continue;
      }
      const text = src.slice(i, end + 2);
      if (text.includes('\n')) problem('block comments must fit on one line');
      push('blockComment', text, l, c);
      advance(text.length);
      continue;
    }
    if (ch === '#') {
      let j = src.indexOf('\n', i);
      if (j < 0) j = src.length;
      push('comment', src.slice(i, j), l, c);
      advance(j - i);
      continue;
    }
    if (ch === '@' && (next === "'" || next === '"')) {
      problem('here-strings cannot be collapsed to one line; use an ordinary string');
      const close = src.indexOf(`${next}@`, i + 2);
      const end = close < 0 ? src.length : close + 2;
      advance(end - i);
      continue;
    }
    if (ch === "'") {
      const n = scanSingle(i);
      if (n < 0) {
        problem('single-quoted string does not close on its line');
        let j = src.indexOf('\n', i);
        if (j < 0) j = src.length;
        advance(j - i);
        continue;
      }
      push('string', src.slice(i, i + n), l, c);
      advance(n);
      continue;
    }
    if (ch === '"') {
      const n = scanExpandable(i);
      if (n < 0) {
        problem('double-quoted string does not close on its line');
        let j = src.indexOf('\n', i);
        if (j < 0) j = src.length;
        advance(j - i);
        continue;
      }
      push('expandableString', src.slice(i, i + n), l, c);
      advance(n);
      continue;
    }
    if (ch === '`') {
      if (next === '\n' || next === undefined) problem('a backtick at the end of a line continues it; write the statement on one line or break after an operator');
      push('punct', src.slice(i, i + 2), l, c);
      advance(2);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '@(' || two === '@{' || two === '$(') {
      stack.push({ text: two, line: l, col: c });
      push('open', two, l, c);
      advance(2);
      continue;
    }
    if (ch === '$') {
      if (next === '{') {
        const end = src.indexOf('}', i);
        if (end < 0 || src.slice(i, end).includes('\n')) problem('${...} variable does not close on its line');
        const stop = end < 0 ? src.length : end + 1;
        push('variable', src.slice(i, stop), l, c);
        advance(stop - i);
        continue;
      }
      let j = i + 1;
      if (next === '?' || next === '^' || next === '$') j += 1;
      else while (j < src.length && /[A-Za-z0-9_:]/.test(src[j] as string)) j++;
      push('variable', src.slice(i, j), l, c);
      advance(j - i);
      continue;
    }
    if (OPENERS.has(ch)) {
      stack.push({ text: ch, line: l, col: c });
      push('open', ch, l, c);
      advance(1);
      continue;
    }
    if (ch === ')' || ch === '}' || ch === ']') {
      const top = stack.pop();
      if (!top) problem(`"${ch}" closes nothing`);
      else if (CLOSER_OF[top.text] !== ch) problem(`"${ch}" closes "${top.text}" opened at ${top.line}:${top.col}`);
      push('close', ch, l, c);
      advance(1);
      continue;
    }
    if (WORD_END.test(ch)) {
      push('punct', ch, l, c);
      advance(1);
      continue;
    }
    let j = i;
    while (j < src.length && !WORD_END.test(src[j] as string)) j++;
    push('word', src.slice(i, j), l, c);
    advance(j - i);
  }
  for (const open of stack) problem(`"${open.text}" is never closed`, open.line, open.col);
  return { tokens, problems };
}

/** Tokens that carry meaning: no spaces, newlines or comments. */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'newline' && t.kind !== 'comment' && t.kind !== 'blockComment');
}
