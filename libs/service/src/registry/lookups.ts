import type { NatsConnection } from '@nats-io/transport-node';
import { request } from '@qnet/bus';
import { QnetError, RegistryHostRpc, RegistryNetworkRpc, type RpcContract } from '@qnet/contracts';

/** A registry lookup whose not-found is the caller's 404, naming the request field that held the id. */
async function lookup<Req extends object, Res>(
  nc: NatsConnection,
  contract: RpcContract<Req, Res>,
  body: Req,
  field: string,
  what: string,
): Promise<Res> {
  try {
    return await request(nc, contract, body);
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
  lookup(nc, RegistryHostRpc.GetHost, { host_id: hostId }, field, `host ${hostId}`);

/** The registry's network `id`, or 404 naming `field`. */
export const registryNetwork = (nc: NatsConnection, id: string, field: string) =>
  lookup(nc, RegistryNetworkRpc.GetNetwork, { id }, field, `network ${id}`);
