import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { execa } from 'execa';
import { connectBus, NATS_USERS } from '@qnet/bus';
import { DryRunExecutor, ExecaExecutor, type Executor } from '@qnet/drivers';
import {
  createLogger,
  exitOnSignals,
  loadConfig,
  PinoNestLogger,
  redactedConfig,
} from '@qnet/runtime';
import { AgentModule } from './agent.module.js';
import { agentConfigSpec, type AgentConfig } from './config.js';
import { resolveIdentity, type AgentIdentity } from './identity.js';

const logger = createLogger('node-agent');

/** In netns mode the agent's own namespace is created on first start and kept across restarts. */
async function ensureNamespace(ns: string): Promise<void> {
  const list = await execa('ip', ['netns', 'list']);
  if (!list.stdout.split('\n').some((l) => l.split(' ')[0] === ns))
    await execa('ip', ['netns', 'add', ns]);
  await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

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
  const id = resolveIdentity(config);
  logger.info({ config: redactedConfig(agentConfigSpec, config), identity: id }, 'starting');
  if (id.netns) await ensureNamespace(id.netns);
  const nc = await connectBus({
    url: config.natsUrl,
    user: config.natsUser ?? (config.natsPassword ? NATS_USERS.agent(id.hostId) : undefined),
    password: config.natsPassword,
    name: NATS_USERS.agent(id.hostId),
  });
  // Installed before the context exists: createApplicationContext also initializes it (the host
  // registers then), and a SIGTERM in that window would otherwise kill the agent undrained.
  let app: INestApplicationContext | undefined = undefined;
  exitOnSignals(() => (app ? app.close() : nc.drain()), logger);
  app = await NestFactory.createApplicationContext(
    AgentModule.create({ nc, id, config, exec: executorFor(id, config) }),
    {
      logger: new PinoNestLogger(logger),
    },
  );
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
}
