import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import {
  httpStatusOf,
  parseJsonBody,
  PROTO_PACKAGE,
  QnetError,
  readRequestBody,
} from '@qnet/contracts';
import { runWithContext, sendJson } from '@qnet/runtime';
import { authorize, type AuthSettings } from '../auth/auth.guard.js';
import { toBody } from '../http/error.filter.js';
import { openRequest } from '../http/request-context.js';
import type { RpcForwarder } from './rpc-forwarder.js';

/** /limiquantix.network.v1.<Service>/<Method>, with an optional query string. */
const CONNECT_PATH = new RegExp(
  `^/${PROTO_PACKAGE.replaceAll('.', '\\.')}\\.([A-Za-z0-9_]+)/([A-Za-z0-9_]+)(?:\\?(.*))?$`,
);

/**
 * Connect-style unary JSON: POST /limiquantix.network.v1.<Service>/<Method> → qnet.rpc.<svc>.<Method>.
 * A call is a pure forward (the service validates it), so it is answered straight from node:http,
 * without the framework that serves the REST routes: the same request context, body rule,
 * authorization, forwarder and error shape, at a fraction of the CPU per call (B1). The per-RPC
 * paths are listed in /docs from the proto.
 *
 * Returns a request listener that answers Connect calls and hands every other request to `next`.
 */
export function connectRoute(
  rpc: RpcForwarder,
  auth: AuthSettings,
  logger: Pino,
  next: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const errors = new Logger('ConnectRoute');
  return (req, res) => {
    const match = req.method === 'POST' ? CONNECT_PATH.exec(req.url ?? '') : null;
    if (!match) return next(req, res);
    const [, service, method, query] = match as unknown as [string, string, string, string?];
    const ctx = openRequest(req, res, logger, () => `/${PROTO_PACKAGE}.${service}/${method}`);
    if (!ctx) return;
    void runWithContext(ctx, async () => {
      try {
        const body = parseJsonBody(await readRequestBody(req), req.headers['content-type']);
        authorize(auth, {
          path: `/${PROTO_PACKAGE}.${service}/${method}`,
          authorization: req.headers.authorization,
          body,
          queryProject: query === undefined ? undefined : projectOf(query),
        });
        const resolved = rpc.resolve(service, method);
        // Connect unary calls always declare JSON (parseJsonBody also takes an undeclared type).
        if (mediaType(req.headers['content-type']) !== 'application/json')
          throw new QnetError('unsupported_media_type', 'content-type: must be application/json');
        sendJson(res, 200, await rpc.forward(resolved, body));
      } catch (err) {
        const body = toBody(err, errors);
        sendJson(res, httpStatusOf(body.code), body);
      }
    });
  };
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The query string's project_id, as Express's parser would give it (a list when repeated). */
function projectOf(query: string): unknown {
  const all = new URLSearchParams(query).getAll('project_id');
  return all.length > 1 ? all : all[0];
}
