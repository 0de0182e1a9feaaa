import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { isErrorBody, QnetError, type ErrorBody } from '@qnet/contracts';

/** PostgreSQL SQLSTATEs that are the caller's doing, not ours. */
const PG_ERRORS: Record<string, [QnetError['code'], string]> = {
  '23505': ['already_exists', 'conflicts with an existing resource'],
  '23P01': ['already_exists', 'overlaps an existing resource'],
  '23503': ['failed_precondition', 'refers to a resource that does not exist or is still in use'],
  '23514': ['invalid_argument', 'violates a constraint'],
  '22P02': ['invalid_argument', 'has an invalid value'],
  // Validation should have refused these first; if one slips through, it is still the caller's.
  '22001': ['invalid_argument', 'a value is too long'],
  '22003': ['invalid_argument', 'a number is out of range'],
  '22021': ['invalid_argument', 'a value is not valid text'],
  '23502': ['invalid_argument', 'a required value is missing'],
};

/** SQLSTATEs (and their classes) that mean the database is not there, not that the request was wrong. */
const PG_UNAVAILABLE = /^(08|57P0[1-3]|53300|3D000)/;
const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);
const PG_CLIENT_UNAVAILABLE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** True when `exception` says the database connection is gone or cannot be had. */
export function isDatabaseUnavailable(exception: unknown): boolean {
  const e = exception as {
    code?: unknown;
    message?: unknown;
    severity?: unknown;
    driverError?: { code?: unknown };
  };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  return (
    // FATAL: the server ended (or refused) the session itself, whatever the SQLSTATE.
    e?.severity === 'FATAL' ||
    PG_UNAVAILABLE.test(code) ||
    NET_UNAVAILABLE.has(code) ||
    (typeof e?.message === 'string' && PG_CLIENT_UNAVAILABLE.test(e.message))
  );
}

/**
 * Maps anything a handler throws to the one error shape; unexpected errors are logged, never
 * leaked. A lost database is a 503 naming `service` (the caller may retry), not a 500.
 */
export function normalizeError(exception: unknown, logger?: Logger, service?: string): ErrorBody {
  if (exception instanceof QnetError) return exception.toBody();
  if (exception instanceof RpcException) {
    const e = exception.getError();
    if (isErrorBody(e)) return e;
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code =
      status === 404
        ? 'not_found'
        : status === 400
          ? 'invalid_argument'
          : status === 401
            ? 'unauthenticated'
            : status === 403
              ? 'permission_denied'
              : status === 409
                ? 'already_exists'
                : 'internal';
    return { code, message: exception.message };
  }
  const sqlState =
    (exception as { code?: string; driverError?: { code?: string } })?.driverError?.code ??
    (exception as { code?: string })?.code;
  const pg = sqlState ? PG_ERRORS[sqlState] : undefined;
  if (pg) {
    const e = exception as { constraint?: string; driverError?: { constraint?: string } };
    const constraint = e.driverError?.constraint ?? e.constraint;
    return { code: pg[0], message: constraint ? `${pg[1]} (${constraint})` : pg[1] };
  }
  if (isDatabaseUnavailable(exception)) {
    logger?.warn(`database unavailable: ${(exception as Error).message}`);
    return {
      code: 'unavailable',
      message: `the ${service ?? 'service'}'s database is unavailable; retry`,
    };
  }
  logger?.error(exception instanceof Error ? exception : String(exception));
  return { code: 'internal', message: 'internal error' };
}

@Catch()
export class BusExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('BusExceptionFilter');
  constructor(private readonly service?: string) {}
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const body = normalizeError(exception, this.logger, this.service);
    return throwError(() => body);
  }
}
