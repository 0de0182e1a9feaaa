import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import {
  IDEMPOTENCY_KEY_HEADER,
  isIdempotencyKey,
  REQUEST_ID_HEADER,
  runWithContext,
  sanitizeRequestId,
  sendJson,
  type RequestContext,
} from '@qnet/runtime';
import { httpMetrics } from './metrics.js';

/**
 * Opens an HTTP request: gives it an id (the caller's x-request-id if sane), echoes it, and
 * records an access log and metrics when it finishes, under the route `routeOf` names then. An
 * `Idempotency-Key` travels with the context to the service, which answers a repeat with the
 * first request's answer. Returns the request's context, or undefined when it was refused (the
 * 400 is sent).
 */
export function openRequest(
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  routeOf: () => string,
): RequestContext | undefined {
  const requestId = sanitizeRequestId(req.headers[REQUEST_ID_HEADER]);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = routeOf();
    httpMetrics.requests.inc({ method: req.method, route, code: res.statusCode });
    httpMetrics.duration.observe({ method: req.method, route }, seconds);
    if (logger.isLevelEnabled('info'))
      logger.info(
        {
          request_id: requestId,
          method: req.method,
          path: pathOf(req),
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'http',
      );
  });
  const idempotencyKey = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (idempotencyKey !== undefined && !isIdempotencyKey(idempotencyKey)) {
    const message = 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"';
    sendJson(res, 400, {
      code: 'invalid_argument',
      message: `Idempotency-Key: ${message}`,
      details: [{ field: 'Idempotency-Key', message }],
    });
    return undefined;
  }
  return { requestId, idempotencyKey };
}

/** The request's path, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** `openRequest` for every route Express serves: the rest of the request runs in its context. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const ctx = openRequest(req, res, logger, () => routeLabel(req));
    if (ctx) runWithContext(ctx, next);
  };
}

/** Low-cardinality route label: the matched route pattern, never raw ids. */
function routeLabel(req: Request): string {
  return (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
}
