import path from 'node:path';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { NATS_CONNECTION } from '@qnet/bus';
import {
  frrDriver,
  linuxDriver,
  nftLbDriver,
  ovnLbDriver,
  tunnelDriver,
  wireguardDriver,
  type Executor,
  type TunnelDriver,
} from '@qnet/drivers';
import { AgentApi } from './agent-api.js';
import { AgentService } from './agent.service.js';
import type { AgentConfig } from './config.js';
import { DeviceRegistrationService } from './device-registration.js';
import { DriverRunner, type Runner } from './driver-runner.js';
import type { AgentIdentity } from './identity.js';
import {
  AGENT_CONFIG,
  AGENT_IDENTITY,
  DRIVER_RUNNERS,
  EXECUTOR,
  TUNNEL,
  TUNNEL_IDENTITY,
} from './tokens.js';
import type { TunnelIdentity } from './tunnel-identity.js';

/** The drivers this agent runs, each in its runner; `tunnel` only on a routing server or endpoint. */
export const agentRunners = (
  id: AgentIdentity,
  config: AgentConfig,
  exec: Executor,
  tunnel?: TunnelDriver,
): Runner[] => [
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
  ...(tunnel ? [new DriverRunner(tunnel, exec)] : []),
];

@Module({})
export class AgentModule {
  static create(deps: {
    nc: NatsConnection;
    id: AgentIdentity;
    config: AgentConfig;
    exec: Executor;
    tunnelIdentity?: TunnelIdentity;
  }): DynamicModule {
    const tunnel =
      deps.tunnelIdentity &&
      tunnelDriver({
        privateKey: deps.tunnelIdentity.private_key,
        egressInterface: deps.config.routingInterface,
        netns: deps.id.netns,
        exec: deps.exec,
        probe: deps.id.mode !== 'dry-run',
        onFailover: (what) => new Logger('Tunnel').warn(`failover: ${what}`),
      });
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
            agentRunners(deps.id, deps.config, deps.exec, tunnel).map((r) => [r.name, r]),
          ),
        },
        { provide: TUNNEL_IDENTITY, useValue: deps.tunnelIdentity },
        { provide: TUNNEL, useValue: tunnel },
        AgentService,
        AgentApi,
        DeviceRegistrationService,
      ],
    };
  }
}
