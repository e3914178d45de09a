/** JSON from a raw body, never throwing: a reason short enough to hand back to the sender. */
export type JsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseJson(body: Buffer): JsonResult {
  if (body.length === 0) return { ok: false, reason: 'empty body' };
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, reason: 'not UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    // V8's messages quote the input; keep only their shape, never the sender's bytes.
    return { ok: false, reason: e instanceof RangeError ? 'nested too deeply' : 'invalid JSON' };
  }
}

/** One line, at most `max` characters, without control characters: safe for logs and the status page. */
export function oneLine(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
