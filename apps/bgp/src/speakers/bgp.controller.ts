import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcHandler } from '@qnet/bus';
import {
  AddBgpPeerRequest,
  AdvertiseNetworkRequest,
  BgpRpc,
  CreateBgpSpeakerRequest,
  GetBgpSpeakerStatusRequest,
  ListAdvertisementsRequest,
  ListBgpPeersRequest,
  ListBgpSpeakersRequest,
  PeerRef,
  SpeakerIdRequest,
  WithdrawNetworkRequest,
  type BgpAdvertisementView,
  type BgpPeerView,
  type BgpSpeakerDetailedStatus,
  type BgpSpeakerView,
  type ListAdvertisementsResponse,
  type ListBgpPeersResponse,
  type ListBgpSpeakersResponse,
} from '@qnet/contracts';
import { AdvertisementService } from './advertisement.service.js';
import { PeerService } from './peer.service.js';
import { SpeakerService } from './speaker.service.js';

/** BGPService: API 001's RPCs, and API 000's names (CreateBGPSpeaker, AddBGPPeer, ListBGPPeers). */
@Controller()
export class BgpController {
  constructor(
    private readonly speakers: SpeakerService,
    private readonly peers: PeerService,
    private readonly advertisements: AdvertisementService,
  ) {}

  @RpcHandler(BgpRpc.CreateSpeaker)
  createSpeaker(@Payload() req: CreateBgpSpeakerRequest): Promise<BgpSpeakerView> {
    return this.speakers.create(req);
  }

  @RpcHandler(BgpRpc.CreateBGPSpeaker)
  createBgpSpeaker(@Payload() req: CreateBgpSpeakerRequest): Promise<BgpSpeakerView> {
    return this.speakers.create(req);
  }

  @RpcHandler(BgpRpc.GetSpeaker)
  getSpeaker(@Payload() req: SpeakerIdRequest): Promise<BgpSpeakerView> {
    return this.speakers.get(req.id);
  }

  @RpcHandler(BgpRpc.ListSpeakers)
  listSpeakers(@Payload() req: ListBgpSpeakersRequest): Promise<ListBgpSpeakersResponse> {
    return this.speakers.list(req);
  }

  @RpcHandler(BgpRpc.DeleteSpeaker)
  async deleteSpeaker(@Payload() req: SpeakerIdRequest): Promise<object> {
    await this.speakers.delete(req.id);
    return {};
  }

  @RpcHandler(BgpRpc.AddPeer)
  addPeer(@Payload() req: AddBgpPeerRequest): Promise<BgpPeerView> {
    return this.peers.add(req);
  }

  @RpcHandler(BgpRpc.AddBGPPeer)
  addBgpPeer(@Payload() req: AddBgpPeerRequest): Promise<BgpPeerView> {
    return this.peers.add(req);
  }

  @RpcHandler(BgpRpc.RemovePeer)
  async removePeer(@Payload() req: PeerRef): Promise<object> {
    await this.peers.remove(req.speaker_id, req.peer_id);
    return {};
  }

  @RpcHandler(BgpRpc.ListPeers)
  listPeers(@Payload() req: ListBgpPeersRequest): Promise<ListBgpPeersResponse> {
    return this.peers.list(req);
  }

  @RpcHandler(BgpRpc.ListBGPPeers)
  listBgpPeers(@Payload() req: ListBgpPeersRequest): Promise<ListBgpPeersResponse> {
    return this.peers.list(req);
  }

  @RpcHandler(BgpRpc.AdvertiseNetwork)
  advertise(@Payload() req: AdvertiseNetworkRequest): Promise<BgpAdvertisementView> {
    return this.advertisements.advertise(req);
  }

  @RpcHandler(BgpRpc.WithdrawNetwork)
  async withdraw(@Payload() req: WithdrawNetworkRequest): Promise<object> {
    await this.advertisements.withdraw(req);
    return {};
  }

  @RpcHandler(BgpRpc.ListAdvertisements)
  listAdvertisements(
    @Payload() req: ListAdvertisementsRequest,
  ): Promise<ListAdvertisementsResponse> {
    return this.advertisements.list(req);
  }

  @RpcHandler(BgpRpc.GetSpeakerStatus)
  status(@Payload() req: GetBgpSpeakerStatusRequest): Promise<BgpSpeakerDetailedStatus> {
    return this.speakers.status(req.speaker_id);
  }
}
