import type { NatsConnection } from '@nats-io/transport-node';
import { request } from '@qnet/bus';
import { MAX_PAGE_SIZE, type PageRequest, type RpcContract } from '@qnet/contracts';

/** Every page of a list RPC, in order, asked for at the largest page size. */
export async function* allPages<Req extends PageRequest, Res extends { next_page_token: string }>(
  nc: NatsConnection,
  contract: RpcContract<Req, Res>,
  filter: Omit<Req, keyof PageRequest>,
): AsyncGenerator<Res> {
  let token = '';
  do {
    const page = await request(nc, contract, {
      ...filter,
      page_size: MAX_PAGE_SIZE,
      ...(token ? { page_token: token } : {}),
    } as Req);
    yield page;
    token = page.next_page_token;
  } while (token);
}
