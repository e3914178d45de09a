/**
 * Turns a readable script file into the single line node-powershell's
 * protocol needs (`-Command -` reads statements line by line, and a
 * multi-line block would wait for a blank line). Comments are dropped by the
 * tokenizer, not by a regular expression, so a `#` inside a string stays and
 * no comment can swallow code. Lines are joined with "; " where a statement
 * ends, and with a space where it plainly goes on (after an opening bracket,
 * a pipe, a comma or an operator; before a closing bracket or `else`,
 * `elseif`, `catch`, `finally`). Anything the tokenizer refuses is an error.
 */
import { lexPowerShell, type LexProblem, type Token } from './ps-lexer.js';

export const MARKER = /^<#vigil:([a-z][a-z0-9-]*)#>$/;

const CONTINUES_AFTER = new Set(['(', '{', '[', '@(', '@{', '$(', '|', ',', '=', '+', '-', '*', '/', '%', '!', ';', '-and', '-or', '-not', '-xor', '-band', '-bor', '-join', '-f', '-replace', '-split', '-eq', '-ne', '-gt', '-ge', '-lt', '-le', '-like', '-notlike', '-match', '-notmatch', '-contains', '-notcontains', '-in', '-notin', '-is', '-isnot', '-as']);
const CONTINUES_BEFORE = new Set([')', '}', ']', '|']);
const CLAUSE_KEYWORDS = new Set(['else', 'elseif', 'catch', 'finally']);

export class ScriptSyntaxError extends Error {
  constructor(
    readonly script: string,
    readonly problems: readonly LexProblem[],
  ) {
    super(`${script}: ${problems.map((p) => `${p.line}:${p.col}: ${p.message}`).join('; ')}`);
    this.name = 'ScriptSyntaxError';
  }
}

export interface CollapsedScript {
  /** The operation named by the script's marker. */
  readonly name: string;
  /** The whole script body on one line, marker first. */
  readonly line: string;
}

/** Checks and collapses one script; `file` is only for messages. */
export function collapseScript(source: string, file: string): CollapsedScript {
  const { tokens, problems } = lexPowerShell(source);
  const extra: LexProblem[] = [];
  const first = tokens.find((t) => t.kind !== 'newline' && t.kind !== 'space');
  const marker = first?.kind === 'blockComment' ? MARKER.exec(first.text) : null;
  if (!marker) extra.push({ line: first?.line ?? 1, col: first?.col ?? 1, message: 'a script starts with its marker, <#vigil:name#>' });
  for (const t of tokens) {
    if (t.kind === 'blockComment' && t !== first) extra.push({ line: t.line, col: t.col, message: 'only the marker may be a block comment; use # comments on their own lines' });
    if (t.kind === 'word' && /^(Invoke-Expression|iex|Add-Type)$/i.test(t.text)) extra.push({ line: t.line, col: t.col, message: `${t.text} would run text as code; pass data, never code` });
    if (t.kind === 'word' && /::Create$|NewScriptBlock/i.test(t.text)) extra.push({ line: t.line, col: t.col, message: 'building a script block from text runs data as code' });
  }
  if (problems.length || extra.length) throw new ScriptSyntaxError(file, [...problems, ...extra].sort((a, b) => a.line - b.line || a.col - b.col));

  // Group the meaningful tokens of each line, keeping their original spacing.
  const lines: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'newline') {
      lines.push(current);
      current = [];
    } else if (t.kind !== 'comment' && !(t.kind === 'blockComment' && t !== first)) current.push(t);
  }
  lines.push(current);

  let out = '';
  let lastText: string | undefined;
  for (const raw of lines) {
    const toks = trimSpaces(raw);
    if (!toks.length) continue;
    const text = toks.map((t) => t.text).join('');
    const head = toks[0] as Token;
    if (lastText === undefined) out = text;
    else {
      const joinWithSpace =
        lastText === first?.text || CONTINUES_AFTER.has(lastText.toLowerCase()) || CONTINUES_BEFORE.has(head.text) || (head.kind === 'word' && CLAUSE_KEYWORDS.has(head.text.toLowerCase()));
      out += joinWithSpace ? ` ${text}` : `; ${text}`;
    }
    lastText = (toks[toks.length - 1] as Token).text;
  }
  return { name: (marker as RegExpExecArray)[1] as string, line: out };
}

function trimSpaces(toks: readonly Token[]): Token[] {
  let a = 0;
  let b = toks.length;
  while (a < b && toks[a]?.kind === 'space') a++;
  while (b > a && toks[b - 1]?.kind === 'space') b--;
  return toks.slice(a, b);
}

/** Base64 alphabet only: the one argument cannot close its quotes or start a new statement. */
export const BASE64_ARGUMENT = /^[A-Za-z0-9+/]*={0,2}$/;

/** The command sent to PowerShell: the collapsed script as a script block, called with its input as one base64 JSON argument. */
export function commandLine(script: CollapsedScript, input: unknown): string {
  const b64 = Buffer.from(JSON.stringify(input ?? {}), 'utf8').toString('base64');
  if (!BASE64_ARGUMENT.test(b64)) throw new Error('base64 encoding produced an unexpected character');
  return `& {${script.line}} '${b64}'`;
}
