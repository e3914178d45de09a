/**
 * Slack incoming webhooks: `text` (the notification line and the fallback
 * for clients that cannot show blocks) plus Block Kit `blocks`: a header,
 * the summary, the facts, and a context line. Slack's limits are kept
 * (header 150 characters, section text 3,000) and its mrkdwn control
 * characters are escaped. Slack answers `200 ok`; `429` carries Retry-After.
 */
import type { Dispatcher } from 'undici';
import { titleOf, type Notification } from '../alert.js';
import type { SlackReceiverConfig } from '../config.js';
import type { Receiver } from '../receiver.js';
import { postJson } from './http-post.js';
import { iso } from './webhook.js';

export interface SlackPayload {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

export function slackPayload(n: Notification): SlackPayload {
  const a = n.alert;
  const resolved = n.status === 'resolved';
  const header = resolved ? `Resolved: ${label(a.kind)} ${a.subject}` : `${a.severity.toUpperCase()}: ${label(a.kind)} ${a.subject}`;
  const body = resolved && a.resolution ? `${escape(a.summary)}\n*Resolved:* ${escape(a.resolution)}` : escape(a.summary);
  const when = resolved && a.resolvedAt !== undefined ? `first seen ${iso(a.firstSeen)} · resolved ${iso(a.resolvedAt)}` : `first seen ${iso(a.firstSeen)} · last seen ${iso(a.lastSeen)}`;
  return {
    text: cut(escape(titleOf(n)), 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(header, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(body, 3000) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Cluster*\n${escape(a.cluster)}` },
          { type: 'mrkdwn', text: `*Subject*\n${escape(a.subject)}` },
          { type: 'mrkdwn', text: `*Severity*\n${resolved ? `resolved (was ${n.peakSeverity})` : a.severity}` },
          { type: 'mrkdwn', text: `*Kind*\n${a.kind}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: cut(`${when} · key \`${escape(a.key)}\``, 3000) }] },
    ],
  };
}

export class SlackReceiver implements Receiver {
  readonly type = 'slack';
  readonly name: string;

  constructor(
    private readonly c: SlackReceiverConfig,
    private readonly dispatcher: Dispatcher | undefined,
  ) {
    this.name = c.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    await postJson(JSON.stringify(slackPayload(n)), {}, this.c, this.dispatcher, signal);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** `host-failed` -> `host failed`. */
export function label(kind: string): string {
  return kind.replace(/-/g, ' ');
}

/** Slack's mrkdwn needs only these three escaped. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
