/**
 * Microsoft Teams: a message with one Adaptive Card attachment, the shape
 * both a Workflows "When a Teams webhook request is received" trigger and
 * the older incoming-webhook connectors accept. Card version 1.4, which
 * Teams renders everywhere. Workflows answers 202 Accepted.
 */
import type { Dispatcher } from 'undici';
import { titleOf, type Notification } from '../alert.js';
import type { TeamsReceiverConfig } from '../config.js';
import type { Receiver } from '../receiver.js';
import { postJson } from './http-post.js';
import { cut } from './slack.js';
import { iso } from './webhook.js';

export interface TeamsPayload {
  readonly type: 'message';
  readonly attachments: readonly [{ readonly contentType: 'application/vnd.microsoft.card.adaptive'; readonly contentUrl: null; readonly content: Record<string, unknown> }];
}

export function teamsPayload(n: Notification): TeamsPayload {
  const a = n.alert;
  const resolved = n.status === 'resolved';
  const color = resolved ? 'Good' : a.severity === 'critical' ? 'Attention' : a.severity === 'warning' ? 'Warning' : 'Default';
  const facts = [
    { title: 'Cluster', value: a.cluster },
    { title: 'Subject', value: a.subject },
    { title: 'Severity', value: resolved ? `resolved (was ${n.peakSeverity})` : a.severity },
    { title: 'Kind', value: a.kind },
    { title: 'First seen', value: iso(a.firstSeen) },
    resolved && a.resolvedAt !== undefined ? { title: 'Resolved', value: iso(a.resolvedAt) } : { title: 'Last seen', value: iso(a.lastSeen) },
    { title: 'Key', value: a.key },
  ];
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: cut(titleOf(n), 300), weight: 'Bolder', size: 'Medium', color, wrap: true },
    { type: 'TextBlock', text: a.summary, wrap: true },
  ];
  if (resolved && a.resolution) body.push({ type: 'TextBlock', text: `Resolved: ${a.resolution}`, wrap: true });
  body.push({ type: 'FactSet', facts });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', msteams: { width: 'Full' }, body },
      },
    ],
  };
}

export class TeamsReceiver implements Receiver {
  readonly type = 'teams';
  readonly name: string;

  constructor(
    private readonly c: TeamsReceiverConfig,
    private readonly dispatcher: Dispatcher | undefined,
  ) {
    this.name = c.name;
  }

  async send(n: Notification, signal: AbortSignal): Promise<void> {
    await postJson(JSON.stringify(teamsPayload(n)), {}, this.c, this.dispatcher, signal);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}
