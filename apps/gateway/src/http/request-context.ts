import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, runWithContext, sanitizeRequestId } from '@qnet/runtime';
import { httpMetrics } from './metrics.js';

/**
 * Gives every HTTP request an id (the caller's x-request-id if sane), echoes it, runs the request
 * inside that context (so it reaches logs and bus headers), and records an access log and metrics.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = sanitizeRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req);
      httpMetrics.requests.inc({ method: req.method, route, code: res.statusCode });
      httpMetrics.duration.observe({ method: req.method, route }, seconds);
      logger.info(
        {
          request_id: requestId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'http',
      );
    });
    runWithContext({ requestId }, next);
  };
}

/** Low-cardinality route label: the matched route pattern, never raw ids. */
function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: string } | undefined)?.path;
  if (pattern === '/:service/:method') return `/${req.params.service}/${req.params.method}`;
  return pattern ?? 'unmatched';
}
