import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { normalizeError } from '@qnet/bus';
import { httpStatusOf, parseJsonBody, QnetError, readRequestBody } from '@qnet/contracts';
import { listenOn, sendJson } from '@qnet/runtime';

export interface HttpRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body exactly as received (what an HMAC signs); `body` is its JSON. */
  rawBody: Buffer;
  body: unknown;
}

export interface HttpRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Literal segments and `:name` parameters, e.g. `/decision/:endpoint_id`. */
  path: string;
  handle(req: HttpRequest): Promise<unknown>;
}

export interface HttpListenerOptions {
  host: string;
  port: number;
  /** The variable that sets the port, named when it is taken. */
  portVariable: string;
  routes: HttpRoute[];
}

/**
 * A small JSON HTTP listener for a service's compatibility API (the seeds' own paths and ports):
 * exact routes, bodies up to a limit, and the one error shape with the status its code maps to.
 */
export async function startHttpListener(opts: HttpListenerOptions): Promise<Server> {
  const logger = new Logger('HttpListener');
  const routes = opts.routes.map((r) => ({ ...r, segments: r.path.split('/').slice(1) }));
  const server = createServer((req, res) => {
    void (async () => {
      let status = 200;
      let payload: unknown;
      try {
        const rawBody = await readRequestBody(req);
        const url = new URL(req.url ?? '/', 'http://listener');
        const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
        payload = await match.route.handle({
          method: req.method ?? 'GET',
          path: url.pathname,
          params: match.params,
          query: url.searchParams,
          headers: req.headers,
          rawBody,
          body: parseJsonBody(rawBody, req.headers['content-type']),
        });
      } catch (err) {
        const body = err instanceof QnetError ? err.toBody() : normalizeError(err, logger);
        status = httpStatusOf(body.code);
        payload = body;
      }
      sendJson(res, status, payload ?? {});
    })();
  });
  await listenOn(server, opts.host, opts.port, opts.portVariable);
  const addr = server.address() as AddressInfo;
  logger.log(`compatibility API listening on http://${addr.address}:${addr.port}`);
  return server;
}

export function closeHttpListener(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeIdleConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function matchRoute(
  routes: (HttpRoute & { segments: string[] })[],
  method: string,
  pathname: string,
): { route: HttpRoute; params: Record<string, string> } {
  const parts = pathname.split('/').slice(1);
  let pathMatched = false;
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = route.segments.every((s, i) => {
      if (s.startsWith(':'))
        return (params[s.slice(1)] = decodePathSegment(s.slice(1), parts[i]!)) !== '';
      return s === parts[i];
    });
    if (!ok) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  throw pathMatched
    ? new QnetError('invalid_argument', `method ${method} is not allowed on ${pathname}`)
    : new QnetError('not_found', `no route for ${method} ${pathname}`);
}

function decodePathSegment(name: string, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw QnetError.invalid(name, 'is not a valid percent-encoded path segment');
  }
}

/** The seeds' `GET /health`: this process is up and serving its listener. */
export function healthRoute(service: string): HttpRoute {
  return {
    method: 'GET',
    path: '/health',
    handle: () => Promise.resolve({ status: 'healthy', service }),
  };
}
