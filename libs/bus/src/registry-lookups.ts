import type { NatsConnection } from '@nats-io/transport-node';
import {
  QnetError,
  RegistryHostRpc,
  RegistryNetworkRpc,
  type HostView,
  type NetworkView,
} from '@qnet/contracts';
import { busRequest } from './client.js';

/** A registry lookup whose not-found is the caller's 404, naming the request field that held the id. */
async function lookup<T>(
  nc: NatsConnection,
  subject: string,
  body: object,
  field: string,
  what: string,
): Promise<T> {
  try {
    return await busRequest<T>(nc, subject, body);
  } catch (err) {
    if (err instanceof QnetError && err.code === 'not_found')
      throw new QnetError('not_found', `${field}: ${what} not found`, [
        { field, message: 'no such id in the registry' },
      ]);
    throw err;
  }
}

/** The registry's host `hostId`, or 404 naming `field`. */
export const registryHost = (nc: NatsConnection, hostId: string, field: string) =>
  lookup<HostView>(
    nc,
    RegistryHostRpc.GetHost.subject,
    { host_id: hostId },
    field,
    `host ${hostId}`,
  );

/** The registry's network `id`, or 404 naming `field`. */
export const registryNetwork = (nc: NatsConnection, id: string, field: string) =>
  lookup<NetworkView>(nc, RegistryNetworkRpc.GetNetwork.subject, { id }, field, `network ${id}`);
