import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  IDEMPOTENCY_KEY_HEADER,
  isIdempotencyKey,
  REQUEST_ID_HEADER,
  runWithContext,
  sanitizeRequestId,
} from '@qnet/runtime';
import { httpMetrics } from './metrics.js';

/**
 * Gives every HTTP request an id (the caller's x-request-id if sane), echoes it, runs the request
 * inside that context (so it reaches logs and bus headers), and records an access log and metrics.
 * An `Idempotency-Key` travels with the context to the service, which answers a repeat with the
 * first request's answer.
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
    const idempotencyKey = req.headers[IDEMPOTENCY_KEY_HEADER];
    if (idempotencyKey !== undefined && !isIdempotencyKey(idempotencyKey)) {
      const message = 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"';
      res.status(400).json({
        code: 'invalid_argument',
        message: `Idempotency-Key: ${message}`,
        details: [{ field: 'Idempotency-Key', message }],
      });
      return;
    }
    runWithContext({ requestId, idempotencyKey }, next);
  };
}

/** Low-cardinality route label: the matched route pattern, never raw ids. */
function routeLabel(req: Request): string {
  const pattern = (req.route as { path?: string } | undefined)?.path;
  if (pattern === '/:service/:method') return `/${req.params.service}/${req.params.method}`;
  return pattern ?? 'unmatched';
}
