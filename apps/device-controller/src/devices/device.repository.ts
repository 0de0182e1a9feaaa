import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_PAGE_SIZE,
  pageOf,
  pageStart,
  QnetError,
  type DeviceStatus,
  type DeviceType,
  type DeviceView,
  type ListDevicesRequest,
  type Page,
} from '@qnet/contracts';
import { DATA_SOURCE, sqlRows, type SqlTx } from '@qnet/persistence';
import type { AddressPool } from './pools.js';

/** A device as stored: its view's fields plus the sealed PSK, with times as dates. */
export interface DeviceRow extends Omit<DeviceView, 'last_seen' | 'registered_at'> {
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
}

const COLUMNS = `device_id, type, name, addresses, host(tun_ipv4) AS tun_ipv4, host(tun_ipv6) AS tun_ipv6,
  status, config, psk_sealed, last_seen_at, registered_at`;

@Injectable()
export class DeviceRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  /** Registrations allocate one at a time; the unique offsets hold even if this lock were bypassed. */
  async lockPools(tx: SqlTx): Promise<void> {
    await tx.rows(`SELECT pg_advisory_xact_lock(hashtext('device-controller.pools'))`);
  }

  async find(tx: SqlTx, id: string): Promise<DeviceRow | undefined> {
    const [row] = await tx.rows<DeviceRow>(`SELECT ${COLUMNS} FROM devices WHERE device_id = $1`, [
      id,
    ]);
    return row;
  }

  async get(id: string): Promise<DeviceRow> {
    const [row] = await sqlRows<DeviceRow>(
      this.ds,
      `SELECT ${COLUMNS} FROM devices WHERE device_id = $1`,
      [id],
    );
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
    const [row] = await tx.rows<{ o: number | null }>(
      `SELECT min(o) AS o FROM (
         SELECT $1::int AS o UNION ALL SELECT ${column} + 1 FROM devices
       ) c
       WHERE o BETWEEN $1 AND $2 AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.${column} = c.o)`,
      [pool.start, pool.end],
    );
    return row?.o ?? undefined;
  }

  async insert(tx: SqlTx, d: NewDevice): Promise<DeviceRow> {
    const [row] = await tx.rows<DeviceRow>(
      `INSERT INTO devices (device_id, type, name, addresses, tun_ipv4, tun_ipv4_offset, tun_ipv6,
         tun_ipv6_offset, psk_sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [
        d.device_id,
        d.type,
        d.name,
        d.addresses,
        d.tun_ipv4,
        d.tun_ipv4_offset,
        d.tun_ipv6,
        d.tun_ipv6_offset,
        d.psk_sealed,
      ],
    );
    return row!;
  }

  /** A repeated registration refreshes the name and addresses; the tunnel addresses stay. */
  async refresh(tx: SqlTx, id: string, name: string, addresses: string[]): Promise<DeviceRow> {
    const [row] = await tx.rows<DeviceRow>(
      `UPDATE devices SET name = $2, addresses = $3, last_seen_at = now() WHERE device_id = $1 RETURNING ${COLUMNS}`,
      [id, name, addresses],
    );
    return row!;
  }

  async setConfig(tx: SqlTx, id: string, config: Record<string, unknown>): Promise<DeviceRow> {
    return this.updateOne(tx, `config = $2`, [id, config]);
  }

  async setStatus(
    tx: SqlTx,
    id: string,
    status: DeviceStatus,
    details: Record<string, unknown>,
  ): Promise<DeviceRow> {
    return this.updateOne(tx, `status = $2, status_details = $3, last_seen_at = now()`, [
      id,
      status,
      details,
    ]);
  }

  async touch(id: string): Promise<void> {
    await sqlRows(this.ds, `UPDATE devices SET last_seen_at = now() WHERE device_id = $1`, [id]);
  }

  async delete(tx: SqlTx, id: string): Promise<DeviceRow> {
    const [row] = await tx.rows<DeviceRow>(
      `DELETE FROM devices WHERE device_id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    if (!row) throw QnetError.notFound('device', id);
    return row;
  }

  async list(req: ListDevicesRequest): Promise<Page<DeviceRow>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    const params: unknown[] = [];
    const where: string[] = [];
    const after = pageStart(req.page_token);
    if (after) where.push(`device_id > $${params.push(after)}`);
    if (req.type) where.push(`type = $${params.push(req.type)}`);
    if (req.status) where.push(`status = $${params.push(req.status)}`);
    const rows = await sqlRows<DeviceRow>(
      this.ds,
      `SELECT ${COLUMNS} FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY device_id LIMIT $${params.push(limit + 1)}`,
      params,
    );
    return pageOf(
      rows,
      limit,
      (r) => r,
      (r) => r.device_id,
    );
  }

  async all(): Promise<DeviceRow[]> {
    return sqlRows<DeviceRow>(this.ds, `SELECT ${COLUMNS} FROM devices ORDER BY device_id`);
  }

  /** Records a signature; false when it was already seen (a replay). */
  async rememberSignature(signature: string, ttlS: number): Promise<boolean> {
    const rows = await sqlRows(
      this.ds,
      `INSERT INTO seen_signatures (signature, expires_at) VALUES ($1, now() + make_interval(secs => $2))
       ON CONFLICT DO NOTHING RETURNING signature`,
      [signature, ttlS],
    );
    return rows.length === 1;
  }

  async forgetExpiredSignatures(): Promise<void> {
    await sqlRows(this.ds, `DELETE FROM seen_signatures WHERE expires_at < now()`);
  }

  private async updateOne(tx: SqlTx, set: string, params: unknown[]): Promise<DeviceRow> {
    const [row] = await tx.rows<DeviceRow>(
      `UPDATE devices SET ${set} WHERE device_id = $1 RETURNING ${COLUMNS}`,
      params,
    );
    if (!row) throw QnetError.notFound('device', String(params[0]));
    return row;
  }
}
