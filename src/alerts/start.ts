/**
 * Starts alerting: listens to the controller's decisions, evaluates the
 * status report on a timer (thresholds, and conditions that end without a
 * decision), and sends notifications to the configured receivers. Nothing
 * here can block or throw into the controller: the decision listener only
 * updates the book and queues, and every evaluation catches its own errors.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { DecisionListener } from '../decisions.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { StatusReport } from '../service/status.js';
import type { Alert, Notification } from './alert.js';
import { AlertBook } from './book.js';
import type { AlertsConfig } from './config.js';
import { Dispatcher, type Route } from './dispatcher.js';
import { FailoverTracker } from './failovers.js';
import { DecisionAlerts } from './from-decisions.js';
import { StatusAlerts } from './from-status.js';
import { Outbox, type AlertCounters, type ReceiverStats } from './outbox.js';
import type { Receiver } from './receiver.js';
import { buildReceiver } from './receivers/build.js';
import { ThresholdAlerts } from './thresholds.js';

export interface AlertsDeps {
  /** The controller's decision log (only `subscribe` is used). */
  readonly decisions: { subscribe(listener: DecisionListener): () => void };
  /** The current status report, as `GET /api/v1/status` serves it. */
  readonly status: () => StatusReport | Promise<StatusReport>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The parsed `alerts:` section (alertsConfigSchema). */
  readonly config: AlertsConfig;
  /** Relative paths in the section (caFile) resolve against this; the config file's directory. */
  readonly baseDir?: string;
  /** prom-client counters, labelled by receiver (and reason, for dropped). */
  readonly counters?: AlertCounters;
  /** Receivers built elsewhere, added to the configured ones (tests, embedding). */
  readonly extraReceivers?: readonly { readonly receiver: Receiver; readonly queueSize?: number; readonly timeoutMs?: number }[];
}

export interface AlertsHandle {
  /** Stops listening and evaluating, lets queued notifications go out for `drainTimeout`, then counts what is left as dropped. */
  stop(): Promise<void>;
  /** Alerts in force now. */
  active(): Alert[];
  /** Per receiver: queued, sent, failed, dropped, last error. */
  stats(): ReceiverStats[];
  /** Evaluates thresholds and status now (also runs every `evaluateEvery`). */
  evaluate(): Promise<void>;
  /** Resolves when every outbox is empty and idle (tests, orderly shutdown). */
  idle(): Promise<void>;
}

export function startAlerts(deps: AlertsDeps): AlertsHandle {
  const { clock, config } = deps;
  const logger = deps.logger.child({ component: 'alerts' });
  const outboxes: Outbox[] = [];
  const routes: Route[] = [];
  if (config.enabled) {
    for (const rc of config.receivers) {
      const receiver = buildReceiver(rc, clock, logger, deps.baseDir ?? process.cwd());
      const outbox = new Outbox({ receiver, clock, logger, queueSize: rc.queueSize, timeoutMs: rc.timeout, retry: { attempts: rc.retry.attempts, minDelayMs: rc.retry.minDelay, maxDelayMs: rc.retry.maxDelay }, ...(deps.counters ? { counters: deps.counters } : {}) });
      outboxes.push(outbox);
      routes.push({ outbox, filter: { ...(rc.severities ? { severities: rc.severities } : {}), ...(rc.kinds ? { kinds: rc.kinds } : {}), ...(rc.clusters ? { clusters: rc.clusters } : {}) }, sendResolved: rc.sendResolved });
    }
    for (const x of deps.extraReceivers ?? []) {
      const outbox = new Outbox({ receiver: x.receiver, clock, logger, queueSize: x.queueSize ?? 100, timeoutMs: x.timeoutMs ?? 10_000, retry: { attempts: 5, minDelayMs: 1_000, maxDelayMs: 60_000 }, ...(deps.counters ? { counters: deps.counters } : {}) });
      outboxes.push(outbox);
      routes.push({ outbox, filter: {}, sendResolved: true });
    }
  }
  const dispatcher = new Dispatcher(routes);
  const book = new AlertBook((n: Notification) => {
    logger.info({ alert: n.alert.key, status: n.status, severity: n.alert.severity, reason: n.reason }, `alert ${n.status}: ${n.alert.summary}${n.alert.resolution ? ` (resolved: ${n.alert.resolution})` : ''}`);
    dispatcher.dispatch(n);
  });
  const failovers = new FailoverTracker();
  const fromDecisions = new DecisionAlerts(book, failovers);
  const fromStatus = new StatusAlerts(book, failovers, { staleAfterMs: config.staleAfter });
  const thresholds = new ThresholdAlerts(book, config.thresholds);

  let stopped = !config.enabled;
  const unsubscribe = config.enabled
    ? deps.decisions.subscribe((d) => {
        try {
          fromDecisions.onDecision(d);
        } catch (e) {
          logger.error({ err: messageOf(e), decision: d.kind, subject: d.subject }, 'alerts: cannot map a decision');
        }
      })
    : () => undefined;

  let evaluating: Promise<void> | undefined;
  const evaluate = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    // One evaluation at a time: a slow status provider must not pile them up.
    if (evaluating) return evaluating;
    const run = async (): Promise<void> => {
      try {
        const report = await deps.status();
        const at = clock.now();
        fromStatus.sweep(report, at);
        thresholds.evaluate(report, at);
      } catch (e) {
        logger.error({ err: messageOf(e) }, 'alerts: cannot evaluate the status report');
      }
    };
    // Cleared in a callback, not inside run(): a provider that throws at once would otherwise clear it before it is set.
    evaluating = run().finally(() => {
      evaluating = undefined;
    });
    return evaluating;
  };

  let timer: TimerHandle | undefined;
  let closing: Promise<void> | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void evaluate().finally(schedule);
    }, config.evaluateEvery);
  };
  if (config.enabled) {
    schedule();
    logger.info({ receivers: config.receivers.map((r) => ({ name: r.name, type: r.type })) }, `alerts: ${routes.length} receiver(s)`);
  }

  return {
    stop() {
      closing ??= (async () => {
        stopped = true;
        unsubscribe();
        if (timer) clock.clearTimeout(timer);
        await evaluating;
        await Promise.all(outboxes.map((o) => o.close(config.drainTimeout)));
      })();
      return closing;
    },
    active: () => book.list(),
    stats: () => outboxes.map((o) => o.stats()),
    evaluate,
    async idle() {
      await Promise.all(outboxes.map((o) => o.idle()));
    },
  };
}
