import { IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { defineRpc } from '../rpc.js';
import { PageRequest } from '../pagination.js';
import { IsIdToken, IsSafeText } from '../validation.js';

/** A join token as the API shows it after creation: never the token itself. */
export interface JoinTokenView {
  id: string;
  /** The only host this token may enroll; empty: any host id the agent presents. */
  host_id: string;
  description: string;
  created_at: string;
  expires_at: string;
  /** When it was used (a token enrolls one host, once); empty while unused. */
  used_at: string;
  used_by_host: string;
}

export interface CreateJoinTokenResponse extends JoinTokenView {
  /** Shown once: give it to the new host's agent as QNET_JOIN_TOKEN. */
  token: string;
}

export interface ListJoinTokensResponse {
  join_tokens: JoinTokenView[];
  next_page_token: string;
}

/** qnetjoin_ and 32 random bytes, base64url. */
export const JOIN_TOKEN_PATTERN = /^qnetjoin_[A-Za-z0-9_-]{43}$/;
export const JOIN_TOKEN_MAX_TTL_S = 7 * 24 * 3600;

export class CreateJoinTokenRequest {
  @IsOptional() @IsIdToken() host_id?: string;
  @IsOptional() @IsSafeText(1024) description?: string;
  /** Default one hour, at most a week. */
  @IsOptional() @IsInt() @Min(60) @Max(JOIN_TOKEN_MAX_TTL_S) ttl_seconds?: number;
}

export class ListJoinTokensRequest extends PageRequest {}

export class DeleteJoinTokenRequest {
  @IsUUID() id!: string;
}

/** What an agent sends to enroll: the token, its host id and the public half of its own NATS key. */
export class JoinHostRequest {
  @Matches(JOIN_TOKEN_PATTERN, {
    message: 'must be a join token as POST /v1/join-tokens answers it',
  })
  token!: string;
  @IsIdToken() host_id!: string;
  @Matches(/^U[A-Z2-7]{55}$/, { message: 'must be a NATS user public key (nkey, U…)' })
  public_key!: string;
}

export interface JoinHostResponse {
  host_id: string;
  /** The host's NATS user JWT (its permissions: its own subjects only); with its seed, a creds file. */
  jwt: string;
}

export class RevokeHostRequest {
  @IsIdToken() host_id!: string;
}

export interface RevokeHostResponse {
  host_id: string;
  /** Credentials revoked by this call: 0 when the host was already cut off. */
  revoked: number;
}

export const RegistryEnrollmentRpc = {
  CreateJoinToken: defineRpc<CreateJoinTokenRequest, CreateJoinTokenResponse>(
    'registry',
    'CreateJoinToken',
    CreateJoinTokenRequest,
    { protoRequest: 'CreateJoinTokenRequest' },
  ),
  ListJoinTokens: defineRpc<ListJoinTokensRequest, ListJoinTokensResponse>(
    'registry',
    'ListJoinTokens',
    ListJoinTokensRequest,
    { protoRequest: 'ListJoinTokensRequest' },
  ),
  DeleteJoinToken: defineRpc<DeleteJoinTokenRequest, Record<string, never>>(
    'registry',
    'DeleteJoinToken',
    DeleteJoinTokenRequest,
    { protoRequest: 'DeleteJoinTokenRequest' },
  ),
  JoinHost: defineRpc<JoinHostRequest, JoinHostResponse>('registry', 'JoinHost', JoinHostRequest, {
    protoRequest: 'JoinHostRequest',
  }),
  RevokeHost: defineRpc<RevokeHostRequest, RevokeHostResponse>(
    'registry',
    'RevokeHost',
    RevokeHostRequest,
    { protoRequest: 'RevokeHostRequest' },
  ),
};
