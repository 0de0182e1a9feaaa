import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { sql } from 'kysely';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type JoinTokenView,
  type ListJoinTokensRequest,
  type Page,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import { db } from '../db/index.js';

export const tokenDigest = (token: string) => createHash('sha256').update(token).digest();

const TOKEN_COLUMNS = [
  'id',
  'host_id',
  'description',
  'created_at',
  'expires_at',
  'used_at',
  'used_by_host',
] as const;

interface TokenRow {
  id: string;
  host_id: string | null;
  description: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  used_by_host: string | null;
}

/** Join tokens (as digests) and the NATS credentials enrollment issued, by user public key. */
@Injectable()
export class EnrollmentRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async createToken(
    tx: SqlTx,
    t: { id: string; token: string; host_id?: string; description?: string; ttlSeconds: number },
  ): Promise<JoinTokenView> {
    const [row] = await tx.run(
      db
        .insertInto('join_tokens')
        .values({
          id: t.id,
          token_digest: tokenDigest(t.token),
          host_id: t.host_id ?? null,
          description: t.description ?? '',
          expires_at: sql<Date>`now() + make_interval(secs => ${t.ttlSeconds})`,
        })
        .returning(TOKEN_COLUMNS),
    );
    return toView(row!);
  }

  async listTokens(req: ListJoinTokensRequest): Promise<Page<JoinTokenView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('join_tokens')
        .select(TOKEN_COLUMNS)
        .$call((q) => (after ? q.where('id', '>', after) : q))
        .orderBy('id')
        .limit(limit + 1),
    );
    return pageOf(rows, limit, toView, (v) => v.id);
  }

  async deleteToken(tx: SqlTx, id: string): Promise<void> {
    const rows = await tx.run(db.deleteFrom('join_tokens').where('id', '=', id).returning('id'));
    if (!rows.length) throw QnetError.notFound('join token', id);
  }

  /**
   * Spends a token for hostId in one statement (two agents racing with one token: one wins), or
   * says why it cannot be spent.
   */
  async spendToken(tx: SqlTx, token: string, hostId: string): Promise<{ id: string }> {
    const digest = tokenDigest(token);
    const [spent] = await tx.run(
      db
        .updateTable('join_tokens')
        .set({ used_at: sql`now()`, used_by_host: hostId })
        .where('token_digest', '=', digest)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .where((eb) => eb.or([eb('host_id', 'is', null), eb('host_id', '=', hostId)]))
        .returning('id'),
    );
    if (spent) return spent;
    const [t] = await tx.run(
      db
        .selectFrom('join_tokens')
        .select(['host_id', 'used_at', sql<boolean>`expires_at <= now()`.as('expired')])
        .where('token_digest', '=', digest),
    );
    if (!t) throw new QnetError('unauthenticated', 'unknown join token');
    if (t.used_at) throw new QnetError('unauthenticated', 'this join token was already used');
    if (t.expired) throw new QnetError('unauthenticated', 'this join token has expired');
    throw new QnetError('invalid_argument', `this join token enrolls host ${t.host_id} only`, [
      { field: 'host_id', message: `must be ${t.host_id} for this token` },
    ]);
  }

  /** Records a host's new credential; its earlier live one is revoked (one per host). */
  async issue(
    tx: SqlTx,
    c: { publicKey: string; hostId: string; tokenId: string },
  ): Promise<{ revokedEarlier: number }> {
    const earlier = await this.revoke(tx, c.hostId);
    const rows = await tx.run(
      db
        .insertInto('host_credentials')
        .values({ public_key: c.publicKey, host_id: c.hostId, join_token_id: c.tokenId })
        .onConflict((oc) => oc.column('public_key').doNothing())
        .returning('public_key'),
    );
    if (!rows.length)
      throw new QnetError('already_exists', 'this public key was already enrolled', [
        { field: 'public_key', message: 'must be a key pair made for this enrollment' },
      ]);
    return { revokedEarlier: earlier };
  }

  /** Revokes a host's live credentials; how many there were. */
  async revoke(tx: SqlTx, hostId: string): Promise<number> {
    const rows = await tx.run(
      db
        .updateTable('host_credentials')
        .set({ revoked_at: sql`now()` })
        .where('host_id', '=', hostId)
        .where('revoked_at', 'is', null)
        .returning('public_key'),
    );
    return rows.length;
  }

  async everEnrolled(tx: SqlTx, hostId: string): Promise<boolean> {
    const rows = await tx.run(
      db.selectFrom('host_credentials').select('public_key').where('host_id', '=', hostId).limit(1),
    );
    return rows.length > 0;
  }

  /** Every revoked credential: user public key → unix seconds, as an account JWT lists them. */
  async revocations(tx: SqlTx): Promise<Record<string, number>> {
    const rows = await tx.run(
      db
        .selectFrom('host_credentials')
        .select(['public_key', sql<number>`ceil(extract(epoch FROM revoked_at))::int`.as('at')])
        .where('revoked_at', 'is not', null),
    );
    return Object.fromEntries(rows.map((r) => [r.public_key, r.at]));
  }

  /** Serializes account updates across registry instances: the last one sent is the newest. */
  async lockAccount(tx: SqlTx): Promise<void> {
    await tx.run(
      db.selectNoFrom(
        sql<unknown>`pg_advisory_xact_lock(hashtext('registry.nats-account'))`.as('l'),
      ),
    );
  }
}

function toView(r: TokenRow): JoinTokenView {
  return {
    id: r.id,
    host_id: r.host_id ?? '',
    description: r.description,
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
    used_at: r.used_at?.toISOString() ?? '',
    used_by_host: r.used_by_host ?? '',
  };
}
