import { Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@qnet/bus';
import {
  frrDriver,
  linuxDriver,
  nftLbDriver,
  ovnLbDriver,
  wireguardDriver,
  type Driver,
  type Executor,
} from '@qnet/drivers';
import { AgentService } from './agent.service.js';
import type { AgentConfig } from './config.js';
import { DriverRunner } from './driver-runner.js';
import type { AgentIdentity } from './identity.js';
import { AGENT_CONFIG, AGENT_IDENTITY, DRIVER_RUNNERS, EXECUTOR } from './tokens.js';

/** The drivers this agent runs; each service issue adds its own. */
export const agentDrivers = (id: AgentIdentity, config: AgentConfig): Driver[] => [
  linuxDriver as Driver,
  wireguardDriver as Driver,
  frrDriver({ pathspace: config.frrPathspace, hostname: id.hostId }) as Driver,
  nftLbDriver({ netns: id.netns, probe: id.mode !== 'dry-run' }) as Driver,
  ovnLbDriver({ db: config.ovnNbDb, hostId: id.hostId }) as Driver,
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
          useValue: new Map(
            agentDrivers(deps.id, deps.config).map((d) => [d.name, new DriverRunner(d, deps.exec)]),
          ),
        },
        AgentService,
      ],
    };
  }
}
