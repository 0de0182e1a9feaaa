import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { currentContext } from './context.js';

/** Field names whose values are never written to logs, wherever they appear. */
export const REDACTED_KEYS = [
  'password',
  'md5_password',
  'private_key',
  'privateKey',
  'psk',
  'preshared_key',
  'secret',
  'token',
  'authorization',
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    mixin() {
      const ctx = currentContext();
      return ctx ? { request_id: ctx.requestId } : {};
    },
  });
}

/** NestJS LoggerService backed by pino, so framework and application logs share one JSON stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  /** Nest passes (message, [error | stack], [context]): the last string is the context. */
  private write(
    level: 'info' | 'warn' | 'debug' | 'trace' | 'error',
    message: unknown,
    rest: unknown[],
  ): void {
    const fields: Record<string, unknown> = {};
    const strings = rest.filter((r): r is string => typeof r === 'string');
    if (strings.length) fields.context = strings[strings.length - 1];
    if (strings.length > 1) fields.stack = strings[0];
    const err =
      rest.find((r) => r instanceof Error) ?? (message instanceof Error ? message : undefined);
    if (err) fields.err = err;
    if (message instanceof Error) this.pino[level](fields, message.message);
    else if (typeof message === 'object' && message !== null)
      this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }
}
