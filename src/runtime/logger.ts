import { type Logger, pino } from 'pino';

export type { Logger };

/** One JSON logger per process; components take child loggers (`logger.child({component})`). */
export function createLogger(
  level: string = process.env.PORTLB_LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'portlb' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'credentials'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and pure library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
