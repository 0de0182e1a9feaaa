import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  CONNECTED_WITHIN_S,
  type DriverStatusReport,
  type VpnStatusView,
  type WireguardObserved,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, inTransaction } from '@qnet/persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { VpnConfig } from '../config.js';
import { operatingOf } from '../gateways/views.js';
import { VpnRepository } from '../gateways/vpn.repository.js';
import { VPN_CONFIG } from '../tokens.js';

const connectedAt = (t: Date | null, now: number) =>
  t !== null && now - t.getTime() <= CONNECTED_WITHIN_S * 1000;

interface PeerChange {
  id: string;
  vpn_service_id: string;
  name: string;
  endpoint: string;
  before: Date | null;
  after: Date | null;
}

/** What gateways' agents report: applied generations, and per-peer handshakes and traffic. */
@Injectable()
export class GatewayStatusService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(VPN_CONFIG) private readonly config: VpnConfig,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditLog,
  ) {}

  async record(report: DriverStatusReport): Promise<void> {
    await autocommit(this.ds).rows(
      `UPDATE vpn_hosts SET reported_at = now(),
         applied = CASE WHEN $2 THEN GREATEST(applied, $3) ELSE applied END,
         error = CASE WHEN $2 THEN NULL WHEN $3 >= applied THEN $4 ELSE error END
       WHERE host_id = $1`,
      [report.host_id, report.ok, report.generation, report.error ?? 'failed'],
    );
    const observed = report.observed as WireguardObserved | undefined;
    if (observed?.interfaces) await this.recordPeers(report.host_id, observed);
  }

  /** Updates peers that changed; a peer that starts or stops handshaking is audited and emitted. */
  private async recordPeers(hostId: string, observed: WireguardObserved): Promise<void> {
    const peers = observed.interfaces.flatMap((x) => x.peers.map((p) => ({ ...p, iface: x.name })));
    if (!peers.length) return;
    const changed = await inTransaction(this.ds, (tx) =>
      tx.rows<PeerChange>(
        `WITH obs AS (
           SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])
             AS o(iface, key, hs, rx, tx, endpoint)
         ), prev AS (
           SELECT c.id, c.latest_handshake AS before, o.*
           FROM vpn_connections c JOIN vpn_services s ON s.id = c.vpn_service_id
           JOIN obs o ON o.iface = s.interface_name AND o.key = c.peer_public_key
           WHERE s.host_id = $1 FOR UPDATE OF c
         )
         UPDATE vpn_connections c SET
           latest_handshake = CASE WHEN p.hs > 0 THEN to_timestamp(p.hs) END,
           rx_bytes = p.rx, tx_bytes = p.tx, endpoint = p.endpoint
         FROM prev p
         WHERE c.id = p.id AND (c.latest_handshake IS DISTINCT FROM CASE WHEN p.hs > 0 THEN to_timestamp(p.hs) END
           OR c.rx_bytes <> p.rx OR c.tx_bytes <> p.tx OR c.endpoint <> p.endpoint)
         RETURNING c.id, c.vpn_service_id, c.name, c.endpoint, p.before, c.latest_handshake AS after`,
        [
          hostId,
          peers.map((p) => p.iface),
          peers.map((p) => p.public_key),
          peers.map((p) => p.latest_handshake),
          peers.map((p) => p.rx_bytes),
          peers.map((p) => p.tx_bytes),
          peers.map((p) => p.endpoint),
        ],
      ),
    );
    const now = Date.now();
    for (const c of changed) {
      const was = connectedAt(c.before, now);
      const is = connectedAt(c.after, now);
      if (was === is) continue;
      const e = await this.auditLog.record(autocommit(this.ds), {
        vpn_service_id: c.vpn_service_id,
        connection_id: c.id,
        action: is ? 'connection.connected' : 'connection.disconnected',
        actor: `agent:${hostId}`,
        detail: is
          ? `${c.name} handshake from ${c.endpoint || 'unknown endpoint'}`
          : `${c.name}: no handshake for ${CONNECTED_WITHIN_S} s`,
      });
      this.auditLog.emit(e);
    }
  }

  async status(serviceId: string): Promise<VpnStatusView> {
    const tx = autocommit(this.ds);
    const s = await this.repo.service(tx, serviceId);
    const now = Date.now();
    return {
      vpn_service_id: s.id,
      operating_status: operatingOf(s, this.config.reportStaleMs, now),
      observed_at: s.reported_at?.toISOString() ?? '',
      connections: (await this.repo.allConnections(tx, s.id)).map((c) => ({
        connection_id: c.id,
        name: c.name,
        latest_handshake: c.latest_handshake?.toISOString() ?? '',
        rx_bytes: Number(c.rx_bytes),
        tx_bytes: Number(c.tx_bytes),
        connected: connectedAt(c.latest_handshake, now),
        endpoint: c.endpoint,
      })),
    };
  }
}
