import type { NextFunction, Request, Response } from 'express';
import { httpStatusOf, parseJsonBody, QnetError, readRequestBody } from '@qnet/contracts';

/** Every request body, parsed with the API's one rule (`parseJsonBody`) before any route sees it. */
export function jsonBody() {
  return (req: Request, res: Response, next: NextFunction): void => {
    readRequestBody(req)
      .then((raw) => parseJsonBody(raw, req.headers['content-type']))
      .then(
        (body) => {
          req.body = body;
          next();
        },
        (err: unknown) => {
          if (!(err instanceof QnetError)) return next(err);
          const body = err.toBody();
          res.status(httpStatusOf(body.code)).json(body);
        },
      );
  };
}
