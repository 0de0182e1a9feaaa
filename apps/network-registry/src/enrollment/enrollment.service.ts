import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  agentPermissions,
  isUserPublicKey,
  NATS_USERS,
  pushAccountJwt,
  userJwt,
  type NatsAuthority,
} from '@qnet/bus';
import {
  QnetError,
  type CreateJoinTokenRequest,
  type CreateJoinTokenResponse,
  type JoinHostRequest,
  type JoinHostResponse,
  type JoinTokenView,
  type ListJoinTokensRequest,
  type Page,
  type RevokeHostResponse,
} from '@qnet/contracts';
import type { SqlTx } from '@qnet/persistence';
import { Outbox } from '@qnet/service';
import { HostRepository } from '../hosts/host.repository.js';
import { EnrollmentRepository } from './enrollment.repository.js';

export const NATS_TRUST = Symbol('NATS_TRUST');
/** The NATS authority this registry signs host credentials with, and where to send revocations. */
export interface NatsTrust {
  authority?: NatsAuthority;
  natsUrl: string;
}

const DEFAULT_TTL_S = 3600;
const RETRY_PUSH_MS = 10_000;

/**
 * Host enrollment on NATS's own decentralized auth: a join token buys one host a user JWT for
 * the key pair it made, with its agent's permissions (its own subjects only); revoking lists the
 * key in the account JWT, which every server then enforces — it closes the host's connections and
 * refuses it from then on. The registry is the source of truth: every account update is made
 * from the database, under a lock, so the newest update is always complete.
 */
@Injectable()
export class EnrollmentService implements OnApplicationBootstrap {
  private readonly logger = new Logger(EnrollmentService.name);

  constructor(
    private readonly repo: EnrollmentRepository,
    private readonly hosts: HostRepository,
    private readonly outbox: Outbox,
    @Inject(NATS_TRUST) private readonly trust: NatsTrust,
  ) {}

  /** A NATS that lost its resolver directory learns the revocations again. */
  onApplicationBootstrap(): void {
    if (!this.trust.authority) return;
    const attempt = () =>
      this.outbox
        .transaction(async (tx) => {
          await this.repo.lockAccount(tx);
          await this.pushAccount(tx);
        })
        .catch((err: Error) => {
          this.logger.warn(`cannot send NATS the account's revocations yet: ${err.message}`);
          setTimeout(attempt, RETRY_PUSH_MS).unref();
        });
    void attempt();
  }

  createToken(req: CreateJoinTokenRequest): Promise<CreateJoinTokenResponse> {
    this.authority();
    const token = `qnetjoin_${randomBytes(32).toString('base64url')}`;
    return this.outbox.transaction(async (tx, out) => {
      const view = await this.repo.createToken(tx, {
        id: randomUUID(),
        token,
        host_id: req.host_id,
        description: req.description,
        ttlSeconds: req.ttl_seconds ?? DEFAULT_TTL_S,
      });
      out.event({ resource: 'join_token', event: 'created', id: view.id, data: view });
      return { ...view, token };
    });
  }

  listTokens(req: ListJoinTokensRequest): Promise<Page<JoinTokenView>> {
    return this.repo.listTokens(req);
  }

  deleteToken(id: string): Promise<Record<string, never>> {
    return this.outbox.transaction(async (tx, out) => {
      await this.repo.deleteToken(tx, id);
      out.event({ resource: 'join_token', event: 'deleted', id, data: { id } });
      return {};
    });
  }

  join(req: JoinHostRequest): Promise<JoinHostResponse> {
    const authority = this.authority();
    if (!isUserPublicKey(req.public_key))
      throw new QnetError('invalid_argument', 'public_key is not a valid NATS user key', [
        { field: 'public_key', message: 'must be a NATS user public key with a valid checksum' },
      ]);
    return this.outbox.transaction(async (tx, out) => {
      const { id } = await this.repo.spendToken(tx, req.token, req.host_id);
      await this.repo.lockAccount(tx);
      const { revokedEarlier } = await this.repo.issue(tx, {
        publicKey: req.public_key,
        hostId: req.host_id,
        tokenId: id,
      });
      // A host enrolled again (reinstalled): its earlier key stops working.
      if (revokedEarlier) await this.pushAccount(tx);
      const user = NATS_USERS.agent(req.host_id);
      const jwt = await userJwt(authority, user, agentPermissions(req.host_id), req.public_key);
      out.event({
        resource: 'host',
        event: 'enrolled',
        id: req.host_id,
        data: { host_id: req.host_id, join_token_id: id, public_key: req.public_key },
      });
      return { host_id: req.host_id, jwt };
    });
  }

  revoke(hostId: string): Promise<RevokeHostResponse> {
    this.authority();
    return this.outbox.transaction(async (tx, out) => {
      await this.repo.lockAccount(tx);
      const revoked = await this.repo.revoke(tx, hostId);
      if (!revoked && !(await this.repo.everEnrolled(tx, hostId))) {
        if (!(await this.hosts.capabilities([hostId], tx)).has(hostId))
          throw QnetError.notFound('host', hostId);
        throw new QnetError(
          'failed_precondition',
          `host ${hostId} was not enrolled with a join token: its NATS credentials come from its deployment (NATS_CREDS), which is where to withdraw them`,
        );
      }
      // Sent before the commit: if NATS cannot be told, nothing changes and the caller retries.
      await this.pushAccount(tx);
      if (revoked)
        out.event({ resource: 'host', event: 'revoked', id: hostId, data: { host_id: hostId } });
      return { host_id: hostId, revoked };
    });
  }

  /** Sends NATS the account with every revocation; the caller holds the account lock. */
  private async pushAccount(tx: SqlTx): Promise<void> {
    const revocations = await this.repo.revocations(tx);
    try {
      await pushAccountJwt(this.trust.natsUrl, this.authority(), revocations);
    } catch (err) {
      throw new QnetError(
        'unavailable',
        `NATS could not be told the account's revocations (${(err as Error).message}); nothing was changed, retry`,
      );
    }
  }

  private authority(): NatsAuthority {
    if (!this.trust.authority)
      throw new QnetError(
        'failed_precondition',
        'host enrollment needs NATS in operator mode: this registry has no QNET_NATS_AUTHORITY_FILE (npm start and the compose stack set it)',
      );
    return this.trust.authority;
  }
}
