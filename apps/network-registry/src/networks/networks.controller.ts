import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  CountNetworkVmsRequest,
  CreateNetworkRequest,
  DeleteNetworkRequest,
  GetNetworkRequest,
  ListNetworksRequest,
  RegistryAddressRpc,
  RegistryNetworkRpc,
  ReleaseAddressRequest,
  ReserveAddressRequest,
  type ReservedAddress,
  UpdateNetworkRequest,
  type CountNetworkVmsResponse,
  type ListNetworksResponse,
  type NetworkView,
} from '@qnet/contracts';
import { NetworkService } from './network.service.js';
import { ReservationService } from './reservation.service.js';

@Controller()
export class NetworksController {
  constructor(
    private readonly networks: NetworkService,
    private readonly reservations: ReservationService,
  ) {}

  @RpcHandler(RegistryNetworkRpc.CreateNetwork)
  create(@Payload() req: CreateNetworkRequest): Promise<NetworkView> {
    return this.networks.create(req);
  }

  @RpcHandler(RegistryNetworkRpc.GetNetwork)
  get(@Payload() req: GetNetworkRequest): Promise<NetworkView> {
    return this.networks.get(req.id);
  }

  @RpcHandler(RegistryNetworkRpc.ListNetworks)
  async list(@Payload() req: ListNetworksRequest): Promise<ListNetworksResponse> {
    const page = await this.networks.list(req);
    return { networks: page.items, next_page_token: page.next_page_token };
  }

  @RpcHandler(RegistryNetworkRpc.UpdateNetwork)
  update(@Payload() req: UpdateNetworkRequest): Promise<NetworkView> {
    return this.networks.update(req);
  }

  @RpcHandler(RegistryNetworkRpc.DeleteNetwork)
  async delete(@Payload() req: DeleteNetworkRequest): Promise<Record<string, never>> {
    await this.networks.delete(req.id);
    return {};
  }

  @RpcHandler(RegistryNetworkRpc.CountNetworkVms)
  async count(@Payload() req: CountNetworkVmsRequest): Promise<CountNetworkVmsResponse> {
    return { count: await this.networks.countVms(req.id) };
  }

  @RpcHandler(RegistryAddressRpc.ReserveAddress)
  reserve(@Payload() req: ReserveAddressRequest): Promise<ReservedAddress> {
    return this.reservations.reserve(req);
  }

  @RpcHandler(RegistryAddressRpc.ReleaseAddress)
  async release(@Payload() req: ReleaseAddressRequest): Promise<Record<string, never>> {
    await this.reservations.release(req);
    return {};
  }
}
