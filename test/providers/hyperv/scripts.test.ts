/**
 * Real PowerShell cannot run here, so the scripts are checked as text: the
 * tokenizer's checks (brackets, quotes, no here-strings, no line
 * continuations, no code built from text), the one-line collapse (nothing
 * swallowed, nothing added but separators), and golden files of the
 * collapsed commands so that every change to a script shows in review.
 * UPDATE_GOLDEN=1 rewrites the golden files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinPath } from '../../../src/paths.js';
import { collapseScript, commandLine, ScriptSyntaxError, BASE64_ARGUMENT } from '../../../providers/hyperv/collapse.js';
import { lexPowerShell, significant } from '../../../providers/hyperv/ps-lexer.js';
import { SCRIPT_NAMES, loadScripts, scriptPath } from '../../../providers/hyperv/scripts.js';

const GOLDEN = builtinPath('test', 'providers', 'hyperv', 'golden');

describe('hyperv scripts as text', () => {
  for (const name of SCRIPT_NAMES) {
    describe(`${name}.ps1`, () => {
      const source = readFileSync(scriptPath(name), 'utf8');
      const collapsed = collapseScript(source, `${name}.ps1`);

      it('tokenizes cleanly: brackets balanced, strings closed on their line, no here-strings or continuations, ASCII only', () => {
        expect(lexPowerShell(source).problems).toEqual([]);
      });

      it('carries its own marker and the required skeleton', () => {
        expect(collapsed.name).toBe(name);
        expect(collapsed.line.startsWith(`<#vigil:${name}#> param([string]$InputB64); $ErrorActionPreference = 'Stop';`)).toBe(true);
        expect(collapsed.line).toMatch(/; try \{ .* \} catch \{ .* \}$/);
        // Exactly one answer: each script writes through the JSON helpers and nothing else.
        const writers = collapsed.line.match(/Write-VigilOk(Json)? |Write-VigilFailure |\[Console\]::Out\.WriteLine\(/g) ?? [];
        expect(writers.length).toBeGreaterThanOrEqual(2);
        expect(collapsed.line).not.toMatch(/Write-Host|Write-Output|Out-Host|Format-(Table|List)/);
      });

      it('collapses to one line that keeps every token, adding only separators', () => {
        expect(collapsed.line).not.toContain('\n');
        const before = significant(lexPowerShell(source).tokens).map((t) => t.text);
        const afterLex = lexPowerShell(collapsed.line);
        expect(afterLex.problems).toEqual([]);
        // No comment survives except the marker, so none can swallow code on the one line.
        expect(afterLex.tokens.filter((t) => t.kind === 'comment')).toEqual([]);
        expect(afterLex.tokens.filter((t) => t.kind === 'blockComment').map((t) => t.text)).toEqual([`<#vigil:${name}#>`]);
        const after = significant(afterLex.tokens).map((t) => t.text);
        expect(after.filter((t) => t !== ';')).toEqual(before.filter((t) => t !== ';'));
      });

      it('never runs input as code: input is read only through ConvertFrom-Json of the base64 argument', () => {
        expect(collapsed.line).not.toMatch(/Invoke-Expression|\biex\b|ScriptBlock\]::Create|NewScriptBlock|Add-Type/i);
        // The raw argument is only ever decoded, never interpolated into a string.
        expect(collapsed.line.match(/\$InputB64/g)?.length).toBe(2);
        // Input values never sit inside an expandable string, where they could become part of a command line.
        const expandable = lexPowerShell(source).tokens.filter((t) => t.kind === 'expandableString');
        expect(expandable.filter((t) => /\$(in|a|ArgsJson|InputB64)\b/i.test(t.text)).map((t) => t.text)).toEqual([]);
      });

      it('matches its golden one-line command', () => {
        const file = join(GOLDEN, `${name}.oneline.txt`);
        const line = `${commandLine(collapsed, { example: 'input' })}\n`;
        if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
          mkdirSync(GOLDEN, { recursive: true });
          writeFileSync(file, line);
        }
        expect(line).toBe(readFileSync(file, 'utf8'));
      });
    });
  }

  it('loads every script with its marker', () => {
    expect([...loadScripts().keys()]).toEqual([...SCRIPT_NAMES]);
  });
});

describe('the collapse refuses what it cannot keep intact', () => {
  const collapse = (body: string) => collapseScript(`<#vigil:t#>\nparam([string]$InputB64)\n${body}\n`, 't.ps1');
  const problemsOf = (body: string): string[] => {
    try {
      collapse(body);
      return [];
    } catch (e) {
      return e instanceof ScriptSyntaxError ? e.problems.map((p) => p.message) : [String(e)];
    }
  };

  it('drops comments by token, so a # inside a string stays and a comment cannot swallow the next statement', () => {
    const c = collapse("$a = 'x # not a comment' # a comment\n$b = \"y # still not\"\n# a whole-line comment\n$c = 3");
    expect(c.line).toBe("<#vigil:t#> param([string]$InputB64); $a = 'x # not a comment'; $b = \"y # still not\"; $c = 3");
  });

  it('joins with a space where the statement goes on, with "; " where it ends', () => {
    const c = collapse("if ($x) {\n  $y = @{\n    a = 1\n    b = 2\n  }\n}\nelse {\n  Get-Thing |\n    Where-Object { $_ }\n}\ntry {\n  1\n}\ncatch {\n  2\n}");
    expect(c.line).toBe('<#vigil:t#> param([string]$InputB64); if ($x) { $y = @{ a = 1; b = 2 } } else { Get-Thing | Where-Object { $_ } }; try { 1 } catch { 2 }');
  });

  it('refuses here-strings, backtick continuations, strings across lines and unbalanced brackets', () => {
    expect(problemsOf("$h = @'\nline\n'@")).toContain('here-strings cannot be collapsed to one line; use an ordinary string');
    expect(problemsOf('Get-Thing `\n  -Name x').join()).toContain('backtick at the end of a line');
    expect(problemsOf("$s = 'a\nb'").join()).toContain('does not close on its line');
    expect(problemsOf('$s = "a\nb"').join()).toContain('does not close on its line');
    expect(problemsOf('if ($x) { $y').join()).toContain('never closed');
    expect(problemsOf('$y = (1]').join()).toContain('closes "("');
  });

  it('refuses running text as code and non-ASCII look-alike quotes', () => {
    expect(problemsOf('Invoke-Expression $in.name').join()).toContain('would run text as code');
    expect(problemsOf('$b = [scriptblock]::Create($in.name)').join()).toContain('runs data as code');
    expect(problemsOf('$s = \u2018x\u2019').join()).toContain('not plain ASCII');
  });

  it('understands quotes inside strings and subexpressions', () => {
    const { problems, tokens } = lexPowerShell(`$a = 'it''s'; $b = "say ""hi"" $($x.Name + ')') \`" done"; $c = "$(if ($y) { '}' })"`);
    expect(problems).toEqual([]);
    expect(tokens.filter((t) => t.kind === 'string' || t.kind === 'expandableString').map((t) => t.text)).toEqual([
      "'it''s'",
      `"say ""hi"" $($x.Name + ')') \`" done"`,
      `"$(if ($y) { '}' })"`,
    ]);
  });

  it('the argument is plain base64 whatever the input holds, so it cannot close its quotes', () => {
    const hostile = { name: `it's "quoted" $(Remove-Item C:\\ -Recurse); \`n\n${'\u00e9\u4e2d\ud83d\ude00'}` };
    const line = commandLine(collapse('$x = 1'), hostile);
    const arg = /'([^']*)'$/.exec(line)?.[1] ?? '';
    expect(BASE64_ARGUMENT.test(arg)).toBe(true);
    expect(JSON.parse(Buffer.from(arg, 'base64').toString('utf8'))).toEqual(hostile);
    expect(line.split('\n')).toHaveLength(1);
  });
});
