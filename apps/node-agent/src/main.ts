import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Server } from 'node:http';
import { closeMetrics, connectBus, labelProcessMetrics, NATS_USERS, serveMetrics } from '@qnet/bus';
import { AGENT_METRICS_PORT } from '@qnet/contracts';
import {
  DryRunExecutor,
  ExecaExecutor,
  removeOrphanedDocuments,
  type Executor,
} from '@qnet/drivers';
import {
  createLogger,
  exitOnSignals,
  loadConfig,
  PinoNestLogger,
  redactedConfig,
} from '@qnet/runtime';
import { AgentModule } from './agent.module.js';
import { agentConfigSpec, type AgentConfig } from './config.js';
import { deviceTypeOf } from './device-registration.js';
import { agentCredentials } from './enrollment.js';
import { loadTunnelIdentity } from './tunnel-identity.js';
import { enterNamespace, resolveIdentity, type AgentIdentity } from './identity.js';

const logger = createLogger('node-agent');

function executorFor(id: AgentIdentity, config: AgentConfig): Executor {
  if (id.mode === 'dry-run') return new DryRunExecutor();
  return new ExecaExecutor({ netns: id.netns, timeoutMs: config.commandTimeoutMs });
}

// Files the agent and its tools write can hold secrets (frr-reload.py's diff files hold MD5
// passwords, written with the process umask): nothing it creates is readable by others.
process.umask(0o077);

try {
  const config = loadConfig<AgentConfig>(agentConfigSpec);
  logger.level = config.logLevel;
  let id = resolveIdentity(config);
  if (id.netns) id = await enterNamespace(id, config);
  logger.info({ config: redactedConfig(agentConfigSpec, config), identity: id }, 'starting');
  const orphaned = await removeOrphanedDocuments();
  if (orphaned)
    logger.warn(`removed ${orphaned} private document(s) left by a process killed mid-apply`);
  if (config.netns && id.underlayIp === '127.0.0.1' && !config.underlayIp)
    logger.warn(
      `namespace ${id.netns} has no IPv4 address: this host reports underlay 127.0.0.1, which no other host can reach (overlays stay local); give it one or set QNET_UNDERLAY_IP`,
    );
  // Installed before anything starts: createApplicationContext also initializes the context (the
  // host registers then), and a SIGTERM in that window would otherwise kill the agent undrained.
  let app: INestApplicationContext | undefined = undefined;
  let bus: NatsConnection | undefined = undefined;
  let metrics: Server | undefined = undefined;
  exitOnSignals(async () => {
    if (app) await app.close();
    else await bus?.drain();
    await closeMetrics(metrics);
  }, logger);
  labelProcessMetrics({ host: id.hostId });
  metrics = await serveMetrics(
    config.metricsHost,
    config.metricsPort === undefined ? AGENT_METRICS_PORT : Number(config.metricsPort),
    logger,
  );
  const credsFile = await agentCredentials(config, id.hostId, logger);
  const nc = (bus = await connectBus(
    { url: config.natsUrl, credsFile, name: NATS_USERS.agent(id.hostId) },
    logger,
  ));
  // A revoked host's connection is closed by the server and refused from then on.
  void nc.closed().then((err) => {
    if (!err) return;
    logger.fatal(
      { err },
      `NATS closed this host's connection: ${err.message}${/authoriz|authentic|revoked/i.test(err.message) ? ` — its credentials were revoked or are not valid; to enroll it again, remove ${credsFile ?? 'its credentials'} and start it with a new QNET_JOIN_TOKEN` : ''}`,
    );
    process.exit(1);
  });
  const tunnelIdentity = deviceTypeOf(config) && (await loadTunnelIdentity(config.stateDir));
  app = await NestFactory.createApplicationContext(
    AgentModule.create({
      nc,
      id,
      config,
      exec: executorFor(id, config),
      tunnelIdentity: tunnelIdentity || undefined,
    }),
    {
      logger: new PinoNestLogger(logger),
    },
  );
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
}
