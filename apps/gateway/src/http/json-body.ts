import { AsyncResource } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import {
  bodyTooLarge,
  httpStatusOf,
  MAX_BODY_BYTES,
  parseJsonBody,
  type QnetError,
} from '@qnet/contracts';

/**
 * Reads every request body (at most MAX_BODY_BYTES are kept; a larger one is read to its end and
 * answered 413) and parses it with the API's one rule (`parseJsonBody`) before any route sees it.
 */
export function jsonBody() {
  return (req: Request, res: Response, next: NextFunction): void => {
    // The request's context (request id) must survive the stream callbacks.
    const proceed = AsyncResource.bind(next);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('error', proceed);
    req.on('end', () => {
      try {
        if (size > MAX_BODY_BYTES) throw bodyTooLarge();
        req.body = parseJsonBody(Buffer.concat(chunks), req.headers['content-type']);
        proceed();
      } catch (err) {
        const body = (err as QnetError).toBody();
        res.status(httpStatusOf(body.code)).json(body);
      }
    });
  };
}
