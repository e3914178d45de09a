/**
 * Renders a webhook target's templates the way Proxmox VE's notification
 * engine (proxmox-notify's webhook endpoint) does, restated from its
 * rules, so the tests post exactly the bytes a PVE node would:
 *
 * - Handlebars with HTML escaping turned off (output is written as is);
 * - the data is { title, message, severity, timestamp, fields, secrets },
 *   where title and message are the notification's rendered subject and
 *   body, severity is one of info/notice/warning/error/unknown, timestamp is
 *   unix seconds (a number), every field value is a string, and secrets come
 *   from the target's secret list;
 * - `json X` writes serde_json's serialisation of X (JSON.stringify gives
 *   the same text for these values: the same escapes, lower-case \u00xx);
 * - `escape X` writes X as a JSON string without its surrounding quotes, and
 *   fails when X is not a string;
 * - `url-encode X` percent-encodes UTF-8, control characters, space and
 *   :/?#[]@!$&'()*+,;=% (and nothing else);
 * - header values and the body are stored base64-encoded in the target's
 *   configuration and decoded before rendering.
 *
 * Rendering is done by handlebars.js, the reference implementation of the
 * language that Proxmox's Rust engine implements.
 */
import Handlebars from 'handlebars';

export interface PveNotification {
  readonly title: string;
  readonly message: string;
  readonly severity: 'info' | 'notice' | 'warning' | 'error' | 'unknown';
  readonly timestamp: number;
  readonly fields: Readonly<Record<string, string>>;
}

export interface PveWebhookTarget {
  readonly url: string;
  readonly method: 'post' | 'put' | 'get';
  /** Header values base64-encoded, as PVE stores them. */
  readonly header: readonly { name: string; value: string }[];
  readonly secret: readonly { name: string; value: string }[];
  /** Base64-encoded, as PVE stores it. */
  readonly body: string;
}

const FRAGMENT = new Set([...":/?#[]@!$&'()*+,;=% "]);

function pveHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('json', function (this: unknown, ...args: unknown[]) {
    if (args.length < 2) throw new Error('json: missing parameter');
    return JSON.stringify(args[0] ?? null);
  });
  hb.registerHelper('escape', function (this: unknown, ...args: unknown[]) {
    if (args.length < 2 || typeof args[0] !== 'string') throw new Error('escape: missing text parameter');
    return JSON.stringify(args[0]).slice(1, -1);
  });
  hb.registerHelper('url-encode', function (this: unknown, ...args: unknown[]) {
    if (args.length < 2 || typeof args[0] !== 'string') throw new Error('url-encode: missing parameter');
    let out = '';
    for (const byte of Buffer.from(args[0], 'utf8')) {
      const ch = String.fromCharCode(byte);
      out += byte < 0x20 || byte >= 0x7f || FRAGMENT.has(ch) ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : ch;
    }
    return out;
  });
  return hb;
}

export interface RenderedRequest {
  readonly method: 'POST' | 'PUT' | 'GET';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function renderPveWebhook(target: PveWebhookTarget, n: PveNotification): RenderedRequest {
  const hb = pveHandlebars();
  const data = {
    title: n.title,
    message: n.message,
    severity: n.severity,
    timestamp: n.timestamp,
    fields: { ...n.fields },
    secrets: Object.fromEntries(target.secret.map((s) => [s.name, Buffer.from(s.value, 'base64').toString('utf8')])),
  };
  const render = (template: string) => hb.compile(template, { noEscape: true })(data);
  const headers: Record<string, string> = {};
  for (const h of target.header) headers[h.name.toLowerCase()] = render(Buffer.from(h.value, 'base64').toString('utf8'));
  return {
    method: target.method.toUpperCase() as RenderedRequest['method'],
    url: render(target.url),
    headers,
    body: render(Buffer.from(target.body, 'base64').toString('utf8')),
  };
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
