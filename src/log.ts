import pino, { type Logger } from 'pino';

/** JSON logs on stdout. Tokens never reach the log: authorization values are redacted wherever they appear. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ai-usage-receiver' },
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
