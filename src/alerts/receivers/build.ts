/** Builds the receiver a config entry names. Files it names (caFile) are read now, so a bad path fails at start. */
import type { Clock } from '../../clock/clock.js';
import type { Logger } from '../../log.js';
import type { ReceiverConfig } from '../config.js';
import type { Receiver } from '../receiver.js';
import { EmailReceiver } from './email.js';
import { tlsDispatcher } from './http-post.js';
import { SlackReceiver } from './slack.js';
import { TeamsReceiver } from './teams.js';
import { WebhookReceiver } from './webhook.js';

export function buildReceiver(c: ReceiverConfig, clock: Clock, logger: Logger, baseDir: string): Receiver {
  switch (c.type) {
    case 'webhook':
      return new WebhookReceiver(c, tlsDispatcher(c.name, c, baseDir, logger), () => clock.now());
    case 'slack':
      return new SlackReceiver(c, tlsDispatcher(c.name, c, baseDir, logger));
    case 'teams':
      return new TeamsReceiver(c, tlsDispatcher(c.name, c, baseDir, logger));
    case 'email':
      return new EmailReceiver(c, baseDir, logger);
  }
}
