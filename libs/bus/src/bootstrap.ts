import { Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { BusServiceId } from '@qnet/contracts';
import { exitOnSignals, PinoNestLogger } from '@qnet/runtime';
import { BusModule } from './bus.module.js';
import { connectBus, type BusConnectionConfig } from './connection.js';
import { ClusterScopeInterceptor } from './context.js';
import { BusExceptionFilter } from './errors.js';
import { ensureEventStream } from './events.js';
import { closeMetrics, labelProcessMetrics, serveMetrics } from './metrics.js';
import { createPingController } from './ping.js';
import { BusServer } from './transport.js';
import { createValidationPipe } from './validation.js';

export const QNET_VERSION = '0.1.0';

export interface ServiceBootstrap {
  service: BusServiceId;
  bus: BusConnectionConfig;
  logger: Logger;
  /** Requests handled at once; more are refused with 503 before any work is done. */
  maxInflight?: number;
  /** Copies of the events stream on a NATS cluster (1 on a single server). */
  eventsReplicas?: number;
  /** Where /metrics is served (port 0: not at all). */
  metrics?: { host: string; port: number };
  /** The service's feature module and any infrastructure modules it needs (persistence). */
  imports: (Type | DynamicModule)[];
}

@Module({})
class ServiceRootModule {}

/**
 * Starts a control-plane service: one NATS connection, the event stream, a NestJS microservice
 * whose handlers validate every payload, answer Ping, and drain on SIGTERM/SIGINT.
 */
export async function bootstrapService(
  opts: ServiceBootstrap,
): Promise<{ app: INestMicroservice; nc: NatsConnection }> {
  // Installed before anything starts (module init runs migrations and may take a while).
  let app: INestMicroservice | undefined = undefined;
  let bus: NatsConnection | undefined;
  let metrics: Server | undefined;
  exitOnSignals(async () => {
    if (app) await app.close();
    else await bus?.drain();
    await closeMetrics(metrics);
  }, opts.logger);
  labelProcessMetrics({ service: opts.service });
  const nc = (bus = await connectBus(opts.bus, opts.logger));
  await ensureEventStream(nc, opts.eventsReplicas);
  const info = {
    id: opts.service,
    instance: `${hostname()}:${process.pid}`,
    version: QNET_VERSION,
    startedAt: Date.now(),
  };
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [BusModule.forConnection(nc, info), ...opts.imports],
    controllers: [createPingController(opts.service)],
  };
  app = await NestFactory.createMicroservice(root, {
    strategy: new BusServer(nc, opts.service, opts.maxInflight),
    logger: new PinoNestLogger(opts.logger),
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new BusExceptionFilter(opts.service));
  app.useGlobalInterceptors(new ClusterScopeInterceptor());
  await app.listen();
  if (opts.metrics) metrics = await serveMetrics(opts.metrics.host, opts.metrics.port, opts.logger);
  opts.logger.info(
    { nats: nc.getServer() },
    `${opts.service} is listening on qnet.rpc.${opts.service}.>`,
  );
  return { app, nc };
}
