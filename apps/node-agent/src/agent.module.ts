import path from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@qnet/bus';
import {
  frrDriver,
  linuxDriver,
  nftLbDriver,
  ovnLbDriver,
  wireguardDriver,
  type Executor,
} from '@qnet/drivers';
import { AgentApi } from './agent-api.js';
import { AgentService } from './agent.service.js';
import type { AgentConfig } from './config.js';
import { DriverRunner, type Runner } from './driver-runner.js';
import type { AgentIdentity } from './identity.js';
import { AGENT_CONFIG, AGENT_IDENTITY, DRIVER_RUNNERS, EXECUTOR } from './tokens.js';

/** The drivers this agent runs, each in its runner. */
export const agentRunners = (id: AgentIdentity, config: AgentConfig, exec: Executor): Runner[] => [
  new DriverRunner(
    linuxDriver({
      dnsmasqDir: path.resolve(config.runDir ?? `/run/qnet/${id.hostId}`, 'dnsmasq'),
    }),
    exec,
  ),
  new DriverRunner(wireguardDriver, exec),
  new DriverRunner(frrDriver({ pathspace: config.frrPathspace, hostname: id.hostId }), exec),
  new DriverRunner(nftLbDriver({ netns: id.netns, probe: id.mode !== 'dry-run' }), exec),
  new DriverRunner(ovnLbDriver({ db: config.ovnNbDb, hostId: id.hostId }), exec),
];

@Module({})
export class AgentModule {
  static create(deps: {
    nc: NatsConnection;
    id: AgentIdentity;
    config: AgentConfig;
    exec: Executor;
  }): DynamicModule {
    return {
      module: AgentModule,
      providers: [
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: AGENT_IDENTITY, useValue: deps.id },
        { provide: AGENT_CONFIG, useValue: deps.config },
        { provide: EXECUTOR, useValue: deps.exec },
        {
          provide: DRIVER_RUNNERS,
          useValue: new Map(agentRunners(deps.id, deps.config, deps.exec).map((r) => [r.name, r])),
        },
        AgentService,
        AgentApi,
      ],
    };
  }
}
