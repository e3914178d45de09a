/**
 * Reads a script's answer. Exactly one JSON document, {"ok":true,"result":...}
 * or {"ok":false,"error":{...}}, is accepted; anything else (a warning
 * banner, a partial line, a localized message, an empty answer) is a
 * protocol fault carrying the first line of what came back, so that no
 * caller ever acts on it.
 */
import { firstLineOf, HyperVProtocolError, type ScriptFailure } from './errors.js';

export type Envelope = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: ScriptFailure };

export function parseEnvelope(stdout: string, what: string, retryable: boolean): Envelope {
  const text = stdout.trim();
  const fault = (why: string) => new HyperVProtocolError('unexpected-output', firstLineOf(text), `${what}: ${why}${text ? `; PowerShell said: ${firstLineOf(text)}` : ''}`, retryable);
  if (!text) throw fault('PowerShell answered nothing');
  if (text.includes('\n')) throw fault('PowerShell answered more than the one JSON line');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fault('the answer is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fault('the answer is not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.ok === true && 'result' in o && Object.keys(o).length === 2) return { ok: true, result: o.result };
  if (o.ok === false && typeof o.error === 'object' && o.error !== null) {
    const e = o.error as Record<string, unknown>;
    if (typeof e.message === 'string') {
      return { ok: false, error: { type: str(e.type), message: e.message, category: str(e.category), id: str(e.id) } };
    }
  }
  throw fault('the answer is not the expected {"ok":...} document');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
