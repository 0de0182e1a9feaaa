import {
  Catch,
  HttpException,
  Logger,
  ServiceUnavailableException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { httpStatusOf, QnetError, type ErrorBody } from '@qnet/contracts';
import { normalizeError } from '@qnet/bus';

/** Every HTTP error has the one error shape, with the status its code maps to. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof ServiceUnavailableException) {
      // /ready's failing report: keep terminus's per-dependency document.
      res.status(503).json(exception.getResponse());
      return;
    }
    const body = toBody(exception, this.logger);
    res.status(httpStatusOf(body.code)).json(body);
  }
}

/** The one error shape of whatever a request threw (unexpected errors are logged, not leaked). */
export function toBody(exception: unknown, logger: Logger): ErrorBody {
  if (exception instanceof QnetError) return exception.toBody();
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return { code: 'not_found', message: `no route for this path` };
    if (status >= 400 && status < 500)
      return { code: 'invalid_argument', message: exception.message };
  }
  return normalizeError(exception, logger);
}
