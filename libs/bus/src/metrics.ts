import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { env, listenOn } from '@qnet/runtime';

/** This process's Prometheus metrics: every service and agent serves them on its own port. */
export const processMetrics = new Registry();

let defaultsCollected = false;

/** Names the process in every series (service="registry", or the agent's host) and adds Node's own. */
export function labelProcessMetrics(labels: Record<string, string>): void {
  processMetrics.setDefaultLabels(labels);
  if (!defaultsCollected) collectDefaultMetrics({ register: processMetrics, prefix: 'qnet_' });
  defaultsCollected = true;
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** What a service's bus handlers answered: rate, errors by code, latency. */
export const rpcMetrics = {
  requests: new Counter({
    name: 'qnet_rpc_requests_total',
    help: 'bus requests handled, by method and answer code (ok or the error code)',
    labelNames: ['method', 'code'],
    registers: [processMetrics],
  }),
  duration: new Histogram({
    name: 'qnet_rpc_duration_seconds',
    help: 'bus request handling time, by method',
    labelNames: ['method'],
    buckets: LATENCY_BUCKETS,
    registers: [processMetrics],
  }),
};

/** A low-cardinality method label: qnet.rpc.<svc>.<Method> → Method; host ids become "*". */
export function methodLabel(subject: string): string {
  const parts = subject.split('.');
  if (parts[1] === 'rpc') return parts.slice(3).join('.');
  if (parts[1] === 'agent') return ['agent', '*', ...parts.slice(3)].join('.');
  return subject;
}

/** The code of a serialized reply ({"error":{"code":…}} or data), without parsing the whole body. */
export function replyCode(data: unknown): string {
  const text = typeof data === 'string' ? data : '';
  return text.startsWith('{"error":{"code":"') ? text.slice(18, text.indexOf('"', 18)) : 'ok';
}

export const metricsConfigSpec = {
  metricsHost: env.string('METRICS_HOST', {
    description: 'address the Prometheus /metrics listener binds',
    default: '127.0.0.1',
  }),
  metricsPort: env.optional('METRICS_PORT', {
    description:
      "Prometheus /metrics port (default: the component's own, see README); 0 turns it off",
    pattern: /^\d{1,5}$/,
  }),
};

/**
 * Serves `GET /metrics` from this process's registry. A taken port stops the process with a message
 * naming METRICS_PORT (listenOn).
 */
export async function serveMetrics(
  host: string,
  port: number,
  logger?: Logger,
): Promise<Server | undefined> {
  if (!port) return undefined;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    processMetrics.metrics().then(
      (text) => res.writeHead(200, { 'content-type': processMetrics.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await listenOn(server, host, port, 'METRICS_PORT');
  const addr = server.address() as AddressInfo;
  logger?.info(`metrics on http://${addr.address}:${addr.port}/metrics`);
  return server;
}

export function closeMetrics(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
