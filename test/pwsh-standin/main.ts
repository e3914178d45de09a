/**
 * STAND-IN, NOT POWERSHELL. The process node-powershell starts in the
 * tests instead of `pwsh`. It speaks node-powershell's marker protocol
 * exactly (packages.md section 2): for each call it reads
 *   [Console]::Error.WriteLine("D") / [Console]::Out.WriteLine("D") / <command> / (the same two again)
 * and answers on stdout and stderr between two echoes of D, each stream.
 * It recognises the provider's scripts by their marker (<#vigil:NAME#>),
 * never by guessing, decodes their one base64 JSON argument, and asks the
 * simulated estate at $VIGIL_STANDIN_URL what the real script would print.
 * It also plays faults the estate queues: stderr text, a warning banner, a
 * partial line, an exit mid-call (code 0 or not), a hang. A command without
 * a marker gets PowerShell's "not recognized" error, and the scripts other
 * than session-open fail the same way until session-open has run, as the
 * helpers they call would be missing.
 */
import { request } from 'node:http';
import { createInterface } from 'node:readline';

const MARK = /^\[Console\]::(Out|Error)\.WriteLine\("([0-9A-Za-z]{16})"\)\s*$/;
const SCRIPT = /^& \{<#vigil:([a-z][a-z0-9-]*)#> .*\} '([A-Za-z0-9+/]*={0,2})'$/s;
const url = process.env.VIGIL_STANDIN_URL;

interface Reply {
  stdout?: string;
  stderr?: string;
  exit?: number;
  hang?: boolean;
}

let opened = false;

function ask(script: string, input: unknown): Promise<Reply> {
  return new Promise((resolve) => {
    if (!url) {
      resolve({ stderr: 'stand-in: VIGIL_STANDIN_URL is not set' });
      return;
    }
    const body = JSON.stringify({ script, input, pid: process.pid });
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Reply);
        } catch {
          resolve({ stderr: 'stand-in: the estate answered nonsense' });
        }
      });
    });
    req.on('error', (e) => resolve({ stderr: `stand-in: cannot reach the simulated estate: ${e.message}` }));
    req.end(body);
  });
}

function notRecognized(name: string): Reply {
  return { stderr: `${name}: The term '${name}' is not recognized as a name of a cmdlet, function, script file, or executable program.\nCheck the spelling of the name, or if a path was included, verify that the path is correct and try again.` };
}

async function run(command: string): Promise<Reply> {
  if (!command) return {};
  const m = SCRIPT.exec(command);
  if (!m) return notRecognized(command.split(/\s/)[0] ?? command);
  const [, script, b64] = m as unknown as [string, string, string];
  if (script !== 'session-open' && !opened) return notRecognized('Write-VigilFailure');
  let input: unknown;
  try {
    input = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
  } catch {
    return { stdout: JSON.stringify({ ok: false, error: { type: 'System.ArgumentException', message: 'Conversion from JSON failed', category: 'InvalidArgument', id: 'System.ArgumentException' } }) };
  }
  const reply = await ask(script, input);
  if (script === 'session-open' && reply.stdout?.startsWith('{"ok":true')) opened = true;
  return reply;
}

let current: string | null = null;
let errMarks = 0;
let lines: string[] = [];
let busy = false;
let closed = false;
const queue: string[] = [];

createInterface({ input: process.stdin })
  .on('line', (l) => {
    queue.push(l);
    void pump();
  })
  .on('close', () => {
    closed = true;
    if (!busy) process.exit(0);
  });

async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const line = queue.shift() as string;
    const m = MARK.exec(line);
    if (!m) {
      if (current !== null) lines.push(line);
      continue;
    }
    const [, stream, d] = m as unknown as [string, string, string];
    if (stream === 'Error') {
      if (d !== current) {
        current = d;
        errMarks = 1;
        lines = [];
      } else if (++errMarks === 2) {
        // The closing marker: run the command first, then echo.
        const r = await run(lines.join('\n').trim());
        if (r.hang) {
          // Never answer; node-powershell waits until the provider disposes of this process.
          return;
        }
        if (r.exit !== undefined) {
          if (r.stderr) process.stderr.write(`${r.stderr}\n`);
          process.exit(r.exit);
        }
        if (r.stdout) process.stdout.write(`${r.stdout}\n`);
        if (r.stderr) process.stderr.write(`${r.stderr}\n`);
      }
      process.stderr.write(`${d}\n`);
    } else {
      process.stdout.write(`${d}\n`);
      if (errMarks === 2) {
        current = null;
        errMarks = 0;
      }
    }
  }
  busy = false;
  if (closed) process.exit(0);
}
