/**
 * Logging: JSON lines (pino), readable when the destination is a terminal.
 * Secrets never reach a log: the redaction list below covers every key a
 * config or provider uses for credentials, at any of the depths we log.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

const SECRET_KEYS = [
  'password',
  'tokenSecret',
  'token',
  'secret',
  'hmacSecret',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'apiKey',
  'privateKey',
  'passphrase',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers.${k}`, `config.headers.${k}`]);

export interface LoggerOptions {
  level?: string;
  /** 1 = stdout, 2 = stderr. */
  fd?: 1 | 2;
  /** Force human-readable (true) or JSON (false); default: readable when the fd is a terminal. */
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 1;
  const level = options.level ?? process.env.VIGIL_LOG_LEVEL ?? 'info';
  const base = { level, base: undefined, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (options.pretty ?? isTty) {
    return pino(base, pretty({ destination: fd, sync: true, colorize: isTty, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: fd, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
