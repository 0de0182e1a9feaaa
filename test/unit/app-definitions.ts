// Every app's definition and config spec, for checks that span the whole product.
import { registryService } from '../../apps/network-registry/src/definition.js';
import { lbService } from '../../apps/lb/src/definition.js';
import { vpnService } from '../../apps/vpn/src/definition.js';
import { bgpService } from '../../apps/bgp/src/definition.js';
import { tunnelService } from '../../apps/tunnel-balancer/src/definition.js';
import { deviceService } from '../../apps/device-controller/src/definition.js';
import { gatewayConfigSpec } from '../../apps/gateway/src/config.js';
import { agentConfigSpec } from '../../apps/node-agent/src/config.js';
import { serviceConfigSpec, type ServiceDefinition } from '@qnet/service';
import type { EnvVar } from '@qnet/runtime';

export const SERVICE_DEFINITIONS: ServiceDefinition<object>[] = [
  registryService as ServiceDefinition<object>,
  lbService as ServiceDefinition<object>,
  vpnService as ServiceDefinition<object>,
  bgpService as ServiceDefinition<object>,
  tunnelService as ServiceDefinition<object>,
  deviceService as ServiceDefinition<object>,
];

type Spec = Record<string, EnvVar<unknown> & { name: string }>;

/** app name → the environment variables it reads. */
export function configSpecs(): Record<string, Spec> {
  const specs: Record<string, Spec> = {
    gateway: gatewayConfigSpec as Spec,
    'node-agent': agentConfigSpec as Spec,
  };
  for (const d of SERVICE_DEFINITIONS) {
    const app = {
      registry: 'network-registry',
      lb: 'lb',
      vpn: 'vpn',
      bgp: 'bgp',
      tunnel: 'tunnel-balancer',
      device: 'device-controller',
    }[d.service];
    specs[app] = { ...(serviceConfigSpec as Spec), ...((d.config ?? {}) as Spec) };
  }
  return specs;
}
