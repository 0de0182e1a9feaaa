import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  pageOf,
  pageStart,
  DEFAULT_PAGE_SIZE,
  QnetError,
  type ListNicsRequest,
  type NicKind,
  type NicView,
  type Page,
} from '@qnet/contracts';
import {
  autocommit,
  callerScope,
  DATA_SOURCE,
  inScope,
  sqlRows,
  type SqlTx,
} from '@qnet/persistence';

export interface NewNic {
  network_id: string;
  vm_id: string;
  iface_id: string;
  kind: NicKind;
  host_id: string;
  guest_mac: string;
  ip_address: string | null;
  host_dev_name: string;
  netns: string | null;
  /** The generation of its host's `linux` state that first realizes it. */
  generation: number;
}

const VIEW = `SELECT c.id, c.network_id, c.vm_id, c.iface_id, c.kind, c.host_id, text(c.guest_mac) AS guest_mac,
    host(c.ip_address) AS ip_address, c.host_dev_name, c.netns, c.created_at,
    CASE WHEN d.applied >= c.generation AND c.generation > 0 THEN 'ACTIVE'
         WHEN d.error IS NOT NULL THEN 'ERROR' ELSE 'PENDING_CREATE' END AS provisioning_status
  FROM nics c JOIN networks n ON n.id = c.network_id
    LEFT JOIN agent_drivers d ON d.host_id = c.host_id AND d.driver = 'linux'`;

type NicRow = Omit<NicView, 'created_at'> & { created_at: Date };

@Injectable()
export class NicRepository {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async get(id: string, tx: SqlTx = autocommit(this.ds)): Promise<NicView> {
    const rows = await tx.rows<NicRow>(
      `${VIEW} WHERE c.id = $1 AND ${inScope('n.project_id', 2)}`,
      [id, callerScope()],
    );
    if (!rows[0]) throw QnetError.notFound('nic', id);
    return toView(rows[0]);
  }

  async list(req: ListNicsRequest): Promise<Page<NicView>> {
    const limit = req.page_size ?? DEFAULT_PAGE_SIZE;
    // A NIC is its network's: a scoped caller lists the NICs of its own project's networks.
    const params: unknown[] = [callerScope()];
    const where: string[] = [inScope('n.project_id', 1)];
    const after = pageStart(req.page_token);
    if (after) where.push(`c.id > $${params.push(after)}::uuid`);
    if (req.network_id) where.push(`c.network_id = $${params.push(req.network_id)}`);
    if (req.vm_id) where.push(`c.vm_id = $${params.push(req.vm_id)}`);
    if (req.host_id) where.push(`c.host_id = $${params.push(req.host_id)}`);
    const rows: NicRow[] = await sqlRows(
      this.ds,
      `${VIEW} WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT ${limit + 1}`,
      params,
    );
    return pageOf(rows, limit, toView, (v) => v.id);
  }

  async insert(tx: SqlTx, id: string, n: NewNic): Promise<void> {
    await tx.rows(
      `INSERT INTO nics (id, network_id, vm_id, iface_id, kind, host_id, guest_mac, ip_address, host_dev_name, netns, generation)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        id,
        n.network_id,
        n.vm_id,
        n.iface_id,
        n.kind,
        n.host_id,
        n.guest_mac,
        n.ip_address,
        n.host_dev_name,
        n.netns,
        n.generation,
      ],
    );
  }

  /** Removes the NIC and frees its address; a host that was only there for NICs leaves the network. */
  async delete(
    tx: SqlTx,
    id: string,
  ): Promise<{ network_id: string; host_id: string } | undefined> {
    const rows: { network_id: string; host_id: string; ip: string | null }[] = await tx.rows(
      `DELETE FROM nics c USING networks n WHERE c.id = $1 AND n.id = c.network_id
         AND ${inScope('n.project_id', 2)}
       RETURNING c.network_id, c.host_id, c.ip_address AS ip`,
      [id, callerScope()],
    );
    const nic = rows[0];
    if (!nic) return undefined;
    if (nic.ip)
      await tx.rows(`DELETE FROM ip_allocations WHERE network_id = $1 AND address = $2`, [
        nic.network_id,
        nic.ip,
      ]);
    await tx.rows(
      `DELETE FROM network_hosts nh WHERE nh.network_id = $1 AND nh.host_id = $2 AND NOT nh.explicit
         AND NOT EXISTS (SELECT 1 FROM nics WHERE network_id = $1 AND host_id = $2)`,
      [nic.network_id, nic.host_id],
    );
    return nic;
  }
}

function toView(r: NicRow): NicView {
  return { ...r, created_at: r.created_at.toISOString() };
}
