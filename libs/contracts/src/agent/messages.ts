import {
  Allow,
  ArrayMaxSize,
  IsBoolean,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { defineAgentCall } from '../rpc.js';
import { Subjects } from '../subjects.js';
import type { NicView } from '../registry/nics.js';
import {
  IsIdToken,
  IsInterfaceName,
  IsIpAddress,
  IsRejections,
  IsSafeText,
} from '../validation.js';
import {
  AGENT_MODES,
  CAPABILITIES,
  MAX_REPORTED_INTERFACES,
  type AgentMode,
  type Capability,
} from './capabilities.js';

export class RegisterHostRequest {
  @IsIdToken() host_id!: string;
  @IsSafeText(253) hostname!: string;
  @IsIpAddress() underlay_ip!: string;
  @IsArray()
  @ArrayMaxSize(CAPABILITIES.length)
  @IsIn(CAPABILITIES, { each: true })
  capabilities!: Capability[];
  @IsIn(AGENT_MODES) mode!: AgentMode;
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @MaxLength(32, { each: true })
  drivers!: string[];
  @IsSafeText(64) agent_version!: string;
  /** Links a bridged network could take as its uplink (uplinkCandidates); absent when unknown. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REPORTED_INTERFACES)
  @IsInterfaceName({ each: true })
  interfaces?: string[];
}

export interface RegisterHostReply {
  host_id: string;
  health: HostHealth;
  /** True when this registration created the host (first time, or after the registry lost it). */
  created: boolean;
}

export class HeartbeatRequest {
  @IsIdToken() host_id!: string;
  @IsArray()
  @ArrayMaxSize(CAPABILITIES.length)
  @IsIn(CAPABILITIES, { each: true })
  capabilities!: Capability[];
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) uptime_s!: number;
  /** Links a bridged network could take as its uplink (uplinkCandidates); absent when unknown. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_REPORTED_INTERFACES)
  @IsInterfaceName({ each: true })
  interfaces?: string[];
  /** Generation each driver has applied, e.g. {"linux": 12}. */
  @IsOptional() @IsObject() applied?: Record<string, number>;
}

export interface HeartbeatReply {
  /** False when the registry does not know this host: the agent registers again. */
  known: boolean;
}

export const HOST_HEALTH = ['healthy', 'degraded', 'offline'] as const;
export type HostHealth = (typeof HOST_HEALTH)[number];

/** Full desired state of one driver on one host, stamped with a generation (docs/architecture.md, "One desired-state core"). */
export class DesiredState<T = unknown> {
  @IsString() @MaxLength(32) driver!: string;
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) generation!: number;
  @IsObject() spec!: T;
}

export interface ApplyResult {
  driver: string;
  generation: number;
  ok: boolean;
  /** What the apply changed, as the commands executed (or recorded in dry-run). */
  changes: string[][];
  error?: string;
  /**
   * After a successful apply: what this host could not realize (resource name → why), left out
   * while the rest applied; `{}` when nothing was.
   */
  rejected?: Record<string, string>;
  /** Not applied because a newer full state was already queued (not reported on the bus). */
  superseded?: boolean;
}

/** Published on qnet.agent.<host>.status.<driver> after every apply or resync. */
export interface DriverStatus extends ApplyResult {
  host_id: string;
  observed_at: string;
  observed?: unknown;
}

/** DriverStatus as the control plane receives and validates it. */
export class DriverStatusReport implements DriverStatus {
  @IsIdToken() host_id!: string;
  @IsString() @MaxLength(32) driver!: string;
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) generation!: number;
  @IsBoolean() ok!: boolean;
  @IsArray() changes!: string[][];
  @IsOptional() @IsString() @MaxLength(4096) error?: string;
  @IsOptional() @IsRejections() rejected?: Record<string, string>;
  @IsString() @MaxLength(64) observed_at!: string;
  @IsOptional() @Allow() observed?: unknown;
}

export class DesiredStateRequest {
  @IsIdToken() host_id!: string;
}

/** What an agent asks of the control plane about itself. */
/** Seed 003's `POST /agent/v1/net/create`: a TAP for a VM on a bridge of this host. */
export class AgentNetCreateRequest {
  @IsInterfaceName() bridge!: string;
  @IsInterfaceName() tap!: string;
  @IsOptional() @IsInt() @Min(1) @Max(4094) vlan_id?: number;
}

/** Seed 003's `POST /agent/v1/net/delete`. */
export class AgentNetDeleteRequest {
  @IsInterfaceName() tap!: string;
}

export const AgentCalls = {
  register: defineAgentCall<RegisterHostRequest, RegisterHostReply>(Subjects.agentRegister),
  heartbeat: defineAgentCall<HeartbeatRequest, HeartbeatReply>(Subjects.agentHeartbeat),
  netCreate: defineAgentCall<AgentNetCreateRequest, NicView>(Subjects.agentNetCreate),
  netDelete: defineAgentCall<AgentNetDeleteRequest, Record<string, never>>(Subjects.agentNetDelete),
  desired: (driver: string) =>
    defineAgentCall<DesiredStateRequest, DesiredState>((host) =>
      Subjects.agentDesired(host, driver),
    ),
};
