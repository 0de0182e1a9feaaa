import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectBus } from '@qnet/bus';
import { defaultProtoDir, ProtoCatalog } from '@qnet/contracts';
import {
  createLogger,
  exitOnSignals,
  loadConfig,
  PinoNestLogger,
  redactedConfig,
} from '@qnet/runtime';
import { GatewayModule } from './app.module.js';
import { connectRoute } from './connect/connect-route.js';
import { RpcForwarder } from './connect/rpc-forwarder.js';
import { parseApiTokens, resolveAuthMode } from './auth/tokens.js';
import { gatewayConfigSpec, type GatewayConfig } from './config.js';
import { serveConsole } from './http/console.js';
import { jsonBody } from './http/json-body.js';
import { requestContext } from './http/request-context.js';
import { setupOpenApi } from './openapi.js';

const logger = createLogger('gateway');
// Installed before anything starts: HTTP stops accepting and finishes in-flight requests first;
// then the bus is drained.
let app: NestExpressApplication | undefined;
let nc: NatsConnection | undefined;
exitOnSignals(async () => {
  await app?.close();
  await nc?.drain();
}, logger);
try {
  const config = loadConfig<GatewayConfig>(gatewayConfigSpec);
  logger.level = config.logLevel;
  const tokens = parseApiTokens(config.apiTokens);
  const mode = resolveAuthMode(config.auth, config.host, tokens);
  logger.info({ config: redactedConfig(gatewayConfigSpec, config) }, 'starting');
  const catalog = ProtoCatalog.load(defaultProtoDir());
  nc = await connectBus(
    {
      url: config.natsUrl,
      credsFile: config.natsCreds,
      name: 'gateway',
    },
    logger,
  );

  const auth = { mode, tokens };
  const rpc = new RpcForwarder(nc, catalog, config);
  app = await NestFactory.create<NestExpressApplication>(
    GatewayModule.create({ nc, config, catalog, auth, rpc }),
    {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
    },
  );
  app.use(requestContext(logger));
  app.use(jsonBody());
  setupOpenApi(app, catalog);
  serveConsole(app, logger);
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // RPC replies are not cacheable: hashing each body for an ETag is wasted work.
  express.set('etag', false);
  // Connect calls are answered from node:http; Express serves every other request.
  const server = app.getHttpServer() as Server;
  server.removeAllListeners('request');
  server.on('request', connectRoute(rpc, auth, logger, express));
  await app.listen(config.port, config.host);
  const url = await app.getUrl();
  logger.info(
    mode === 'off'
      ? `gateway listening on ${url} — authentication is OFF (loopback dev mode); set GATEWAY_AUTH=required to enforce tokens`
      : `gateway listening on ${url} — bearer token authentication required`,
  );
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
}
