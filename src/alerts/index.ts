/** Vigil's outgoing alerts: what the lead wires in (see docs/alerts.md). */
export { startAlerts, type AlertsDeps, type AlertsHandle } from './start.js';
export { alertsConfigSchema, type AlertsConfig, type ReceiverConfig } from './config.js';
export type { Alert, AlertKind, Notification, Severity } from './alert.js';
export { ALERT_KINDS, SEVERITIES } from './alert.js';
export type { AlertCounters, CounterLike, ReceiverStats } from './outbox.js';
export type { Receiver } from './receiver.js';
export { DeliveryError } from './receiver.js';
