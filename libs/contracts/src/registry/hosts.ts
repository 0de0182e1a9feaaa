import { IsIn, IsOptional } from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import { IsIdToken, IsLabels, IsSafeText } from '../validation.js';
import { HOST_HEALTH, type HostHealth } from '../agent/messages.js';
import type { AgentMode, Capability } from '../agent/capabilities.js';

export interface HostView {
  id: string;
  hostname: string;
  underlay_ip: string;
  capabilities: Capability[];
  /** Interfaces a bridged network could take as uplink, as last reported; null when unknown. */
  interfaces: string[] | null;
  drivers: string[];
  /** The desired-state generation each driver last applied, as the agent's heartbeat said. */
  applied: Record<string, number>;
  mode: AgentMode;
  agent_version: string;
  description: string;
  labels: Record<string, string>;
  health: HostHealth;
  registered_at: string;
  last_seen_at: string;
}

export interface ListHostsResponse {
  hosts: HostView[];
  next_page_token: string;
}

export class ListHostsRequest extends PageRequest {
  @IsOptional() @IsIn(HOST_HEALTH) health?: HostHealth;
  @IsOptional() @IsSafeText(253) hostname?: string;
}

export class GetHostRequest {
  @IsIdToken() host_id!: string;
}

/** Operator-owned fields of a host; everything else is reported by its agent. */
export class UpdateHostRequest {
  @IsIdToken() host_id!: string;
  @IsOptional() @IsSafeText(1024) description?: string;
  @IsOptional() @IsLabels() labels?: Record<string, string>;
}

export const RegistryHostRpc = {
  ListHosts: defineRpc<ListHostsRequest, ListHostsResponse>(
    'registry',
    'ListHosts',
    ListHostsRequest,
    {
      protoRequest: 'ListHostsRequest',
    },
  ),
  GetHost: defineRpc<GetHostRequest, HostView>('registry', 'GetHost', GetHostRequest, {
    protoRequest: 'GetHostRequest',
  }),
  UpdateHost: defineRpc<UpdateHostRequest, HostView>('registry', 'UpdateHost', UpdateHostRequest, {
    protoRequest: 'UpdateHostRequest',
  }),
};
