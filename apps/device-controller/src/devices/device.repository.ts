import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type DeviceConfigDocument,
  type DeviceStatus,
  type DeviceType,
  type DeviceView,
  type ListDevicesRequest,
  type Page,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, hostText, type SqlTx } from '@qnet/persistence';
import { sql, type UpdateObject } from 'kysely';
import { db } from '../db/index.js';
import type { DB } from '../db/schema.js';
import type { AddressPool } from './pools.js';

/** A device as stored: its view's fields plus the sealed PSK, with times as dates. */
export interface DeviceRow extends Omit<DeviceView, 'last_seen' | 'registered_at' | 'public_key'> {
  public_key: string | null;
  psk_sealed: string;
  last_seen_at: Date;
  registered_at: Date;
}

export interface NewDevice {
  device_id: string;
  type: DeviceType;
  name: string;
  addresses: string[];
  tun_ipv4: string;
  tun_ipv4_offset: number;
  tun_ipv6: string;
  tun_ipv6_offset: number;
  psk_sealed: string;
  public_key: string | null;
}

const COLUMNS = [
  'device_id',
  'type',
  'name',
  'addresses',
  hostText('tun_ipv4').as('tun_ipv4'),
  hostText('tun_ipv6').as('tun_ipv6'),
  'status',
  'config',
  'public_key',
  'psk_sealed',
  'last_seen_at',
  'registered_at',
] as const;

@Injectable()
export class DeviceRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Registrations allocate one at a time; the unique offsets hold even if this lock were bypassed. */
  async lockPools(tx: SqlTx): Promise<void> {
    await tx.run(
      db.selectNoFrom(
        sql<unknown>`pg_advisory_xact_lock(hashtext('device-controller.pools'))`.as('locked'),
      ),
    );
  }

  async find(tx: SqlTx, id: string): Promise<DeviceRow | undefined> {
    const [row] = await tx.run(
      db.selectFrom('devices').select(COLUMNS).where('device_id', '=', id),
    );
    return row;
  }

  async get(id: string): Promise<DeviceRow> {
    const row = await this.find(autocommit(this.ds), id);
    if (!row) throw QnetError.notFound('device', id);
    return row;
  }

  /**
   * Lowest free offset of a pool: candidates are the first offset and the one after each taken
   * offset, so this reads the taken offsets once instead of walking the pool.
   */
  async lowestFree(
    tx: SqlTx,
    column: 'tun_ipv4_offset' | 'tun_ipv6_offset',
    pool: AddressPool,
  ): Promise<number | undefined> {
    const candidates = db
      .selectNoFrom(sql<number>`${pool.start}::int`.as('o'))
      .unionAll(db.selectFrom('devices').select(sql<number>`${sql.ref(column)} + 1`.as('o')));
    const [row] = await tx.run(
      db
        .selectFrom(candidates.as('c'))
        .select(sql<number | null>`min(c.o)`.as('o'))
        .where(sql<boolean>`c.o BETWEEN ${pool.start} AND ${pool.end}`)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('devices as d')
                .select(sql.lit(1).as('one'))
                .whereRef(`d.${column}`, '=', 'c.o'),
            ),
          ),
        ),
    );
    return row?.o ?? undefined;
  }

  async insert(tx: SqlTx, d: NewDevice): Promise<DeviceRow> {
    const [row] = await tx.run(db.insertInto('devices').values(d).returning(COLUMNS));
    if (!row) throw new Error('INSERT returned no row');
    return row;
  }

  /**
   * A repeated registration refreshes the name, addresses and key (one not given stays); the
   * tunnel addresses stay.
   */
  async refresh(
    tx: SqlTx,
    id: string,
    set: { name: string; addresses: string[]; public_key?: string },
  ): Promise<DeviceRow> {
    return this.updateOne(tx, id, { ...set, last_seen_at: sql`now()` });
  }

  async setConfig(tx: SqlTx, id: string, config: DeviceConfigDocument): Promise<DeviceRow> {
    return this.updateOne(tx, id, { config });
  }

  /** Its agent reported: seen now, and online if it had never said how it is. */
  async seen(tx: SqlTx, id: string): Promise<void> {
    await tx.run(
      db
        .updateTable('devices')
        .set({
          last_seen_at: sql`now()`,
          status: sql`CASE WHEN status = 'registered' THEN 'online' ELSE status END`,
        })
        .where('device_id', '=', id),
    );
  }

  async setStatus(
    tx: SqlTx,
    id: string,
    status: DeviceStatus,
    details: Record<string, unknown>,
  ): Promise<DeviceRow> {
    return this.updateOne(tx, id, { status, status_details: details, last_seen_at: sql`now()` });
  }

  async touch(id: string): Promise<void> {
    await autocommit(this.ds).run(
      db
        .updateTable('devices')
        .set({ last_seen_at: sql`now()` })
        .where('device_id', '=', id),
    );
  }

  async delete(tx: SqlTx, id: string): Promise<DeviceRow> {
    const [row] = await tx.run(
      db.deleteFrom('devices').where('device_id', '=', id).returning(COLUMNS),
    );
    if (!row) throw QnetError.notFound('device', id);
    return row;
  }

  async list(req: ListDevicesRequest): Promise<Page<DeviceRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const after = pageStart(req.page_token);
    const rows = await autocommit(this.ds).run(
      db
        .selectFrom('devices')
        .select(COLUMNS)
        .$call((q) => (after ? q.where('device_id', '>', after) : q))
        .$call((q) => (req.type ? q.where('type', '=', req.type) : q))
        .$call((q) => (req.status ? q.where('status', '=', req.status) : q))
        .orderBy('device_id')
        .limit(limit + 1),
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.device_id,
    );
  }

  all(): Promise<DeviceRow[]> {
    return autocommit(this.ds).run(db.selectFrom('devices').select(COLUMNS).orderBy('device_id'));
  }

  /** Records a signature; false when it was already seen (a replay). */
  async rememberSignature(signature: string, ttlS: number): Promise<boolean> {
    const rows = await autocommit(this.ds).run(
      db
        .insertInto('seen_signatures')
        .values({ signature, expires_at: sql`now() + make_interval(secs => ${ttlS})` })
        .onConflict((oc) => oc.doNothing())
        .returning('signature'),
    );
    return rows.length === 1;
  }

  async forgetExpiredSignatures(): Promise<void> {
    await autocommit(this.ds).run(
      db.deleteFrom('seen_signatures').where('expires_at', '<', sql<Date>`now()`),
    );
  }

  private async updateOne(
    tx: SqlTx,
    id: string,
    set: UpdateObject<DB, 'devices'>,
  ): Promise<DeviceRow> {
    const [row] = await tx.run(
      db.updateTable('devices').set(set).where('device_id', '=', id).returning(COLUMNS),
    );
    if (!row) throw QnetError.notFound('device', id);
    return row;
  }
}
