import { clusterUsers, renderNatsConfig, type ClusterPasswords } from '@qnet/bus';
import { BUS_SERVICES, type BusServiceId } from '@qnet/contracts';

/** Environment variable holding a NATS user's password in the compose stack. */
export function natsPasswordVar(user: string): string {
  return `QNET_NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** deploy/nats/nats.conf: the same users and permissions as `npm start`, passwords from the environment. */
export function composeNatsConfig(agentHostIds: string[]): string {
  const ref = (user: string) => ({ env: natsPasswordVar(user) });
  const passwords: ClusterPasswords = {
    gateway: ref('gateway'),
    observer: ref('observer'),
    services: Object.fromEntries(BUS_SERVICES.map((s) => [s.id, ref(s.app)])) as Record<
      BusServiceId,
      { env: string }
    >,
    agents: agentHostIds.map((hostId) => ({ hostId, password: ref(`agent-${hostId}`) })),
  };
  return renderNatsConfig({
    listen: '0.0.0.0:4222',
    monitor: '0.0.0.0:8222',
    storeDir: '/data/jetstream',
    users: clusterUsers(passwords),
  });
}
